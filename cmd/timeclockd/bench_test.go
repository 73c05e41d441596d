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
		dir := b.TempDir()
		sock := filepath.Join(dir, "sim.sock")
		start := time.Now()
		p := daemontest.Start(b, bin, "--state-dir", dir, "--sim-socket", sock)
		s := daemontest.DialSim(b, sock, 10*time.Second)
		s.WaitScreen("Badge or PIN", 10*time.Second)
		rec.Add(time.Since(start))
		p.Cmd.Process.Signal(syscall.SIGTERM)
		p.Wait(b, 10*time.Second)
	}
	rec.Report(b)
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
	sock := filepath.Join(dir, "sim.sock")
	var rec latency.Recorder
	for b.Loop() {
		start := time.Now()
		p := daemontest.Start(b, bin, "--state-dir", dir, "--sim-socket", sock, "--config", cfg)
		s := daemontest.DialSim(b, sock, 60*time.Second)
		s.WaitScreen("Badge or PIN", 60*time.Second)
		rec.Add(time.Since(start))
		p.Cmd.Process.Signal(syscall.SIGTERM)
		p.Wait(b, 20*time.Second)
	}
	rec.Report(b)
}
