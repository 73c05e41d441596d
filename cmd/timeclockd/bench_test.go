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
