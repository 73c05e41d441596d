package main

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"timeclock/internal/daemontest"
	"timeclock/internal/latency"
)

// BenchmarkStartToIdle measures from exec of timeclockd on the sim board to
// the idle screen being shown (seen through the control socket's wait).
func BenchmarkStartToIdle(b *testing.B) {
	bin := daemontest.Build(b, "timeclock/cmd/timeclockd")
	var rec latency.Recorder
	for b.Loop() {
		startToIdle(b, &rec, bin, b.TempDir(), 10*time.Second)
	}
	rec.Report(b)
}

// startToIdle starts timeclockd on dir and records the time until the
// idle screen, then stops it.
func startToIdle(b *testing.B, rec *latency.Recorder, bin, dir string, wait time.Duration, args ...string) {
	sock := filepath.Join(dir, "sim.sock")
	start := time.Now()
	p := daemontest.Start(b, bin, append([]string{"--state-dir", dir, "--sim-socket", sock}, args...)...)
	s := daemontest.DialSim(b, sock, wait)
	s.WaitScreen("Badge or PIN", wait)
	rec.Add(time.Since(start))
	p.Cmd.Process.Signal(syscall.SIGTERM)
	p.Wait(b, 2*wait)
}

// BenchmarkStartToIdle200k is BenchmarkStartToIdle with 200,000 punches
// pending in the state file (500 employees, as BenchmarkPending200k fills
// it): the open's full check of every page and record (docs/storage.md) is
// part of each start. The same file is opened each time.
func BenchmarkStartToIdle200k(b *testing.B) {
	bin := daemontest.Build(b, "timeclock/cmd/timeclockd")
	dir := b.TempDir()
	fillJournal(b, dir, 200_000)
	cfg := writeConfig(b, b.TempDir(), map[string]any{"capacity": 250_000})
	var rec latency.Recorder
	for b.Loop() {
		startToIdle(b, &rec, bin, dir, 60*time.Second, "--config", cfg)
	}
	rec.Report(b)
}
