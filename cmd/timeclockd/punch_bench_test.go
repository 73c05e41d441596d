package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/internal/daemontest"
	"timeclock/internal/latency"
)

// BenchmarkBadgeToFeedback measures, on a real timeclockd with the sim
// board, from sending "badge N" on the control socket to the control
// socket's server-side wait seeing the accepted screen: the badge event,
// roster lookup, durable (fsynced) punch and the feedback screen. Each
// iteration is 50 punches, alternating two employees.
func BenchmarkBadgeToFeedback(b *testing.B) {
	bin := daemontest.Build(b, "timeclock/cmd/timeclockd")
	dir := b.TempDir()
	sock := filepath.Join(dir, "sim.sock")
	roster := writeWorkers(b, b.TempDir(), 2)
	cfg := writeConfig(b, b.TempDir(), map[string]any{"duplicate_window": "0s"})
	p := daemontest.Start(b, bin, "--state-dir", dir, "--sim-socket", sock, "--roster-file", roster, "--config", cfg, "--log-level", "warn")
	s := daemontest.DialSim(b, sock, 10*time.Second)
	s.WaitScreen("Badge or PIN", 10*time.Second)
	var rec latency.Recorder
	n := 0
	for b.Loop() {
		for range 50 {
			i := n % 2
			n++
			start := time.Now()
			s.OK("badge %d", 1_000_000+i)
			s.WaitScreen(workerName(i), 5*time.Second)
			rec.Add(time.Since(start))
		}
	}
	rec.Report(b)
	p.Cmd.Process.Signal(syscall.SIGTERM)
	p.Wait(b, 10*time.Second)
}

// BenchmarkPending200k fills a state file with 200,000 pending punches,
// starts timeclockd on it, takes one more punch, and reports the state
// file's size and the process's resident memory (VmRSS).
func BenchmarkPending200k(b *testing.B) {
	bin := daemontest.Build(b, "timeclock/cmd/timeclockd")
	dir := b.TempDir()
	const n = 200_000
	fillJournal(b, dir, n)
	roster := writeWorkers(b, b.TempDir(), 2)
	// Capacity above 200,000 so the extra punch is taken.
	cfg := writeConfig(b, b.TempDir(), map[string]any{"duplicate_window": "0s", "capacity": 250_000})
	sock := filepath.Join(dir, "sim.sock")
	var rss, size float64
	k := 0
	for b.Loop() {
		p := daemontest.Start(b, bin, "--state-dir", dir, "--sim-socket", sock, "--roster-file", roster, "--config", cfg, "--log-level", "warn")
		s := daemontest.DialSim(b, sock, 20*time.Second)
		s.WaitScreen("Badge or PIN", 20*time.Second)
		s.OK("badge %d", 1_000_000+k%2)
		s.WaitScreen(workerName(k%2), 5*time.Second)
		k++
		if st := s.OK("status"); st["pending"].(float64) < n {
			b.Fatalf("status pending %v", st["pending"])
		}
		rss = max(rss, float64(p.RSS(b)))
		p.Cmd.Process.Signal(syscall.SIGTERM)
		p.Wait(b, 20*time.Second)
		fi, err := os.Stat(filepath.Join(dir, store.FileName))
		if err != nil {
			b.Fatal(err)
		}
		size = float64(fi.Size())
	}
	b.ReportMetric(size/(1<<20), "state-MiB")
	b.ReportMetric(rss/(1<<20), "rss-MiB")
}

// fillJournal appends n realistic pending punches in large batches.
func fillJournal(b testing.TB, dir string, n int) {
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	j, err := journal.Open(st, journal.Options{Capacity: n})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	depts := []string{"Assembly", "Shipping", "Office", ""}
	for done := 0; done < n; {
		batch := make([]journal.Punch, min(10_000, n-done))
		for i := range batch {
			e := (done + i) % 500
			batch[i] = journal.Punch{
				Employee: fmt.Sprintf("E%04d", e), Name: fmt.Sprintf("Employee Number %d", e),
				Kind: journal.Kind(1 + (done+i)%2), Department: depts[e%4],
				Time: t0.Add(time.Duration(done+i) * 7 * time.Second), TZ: "America/New_York", TZOffset: -5 * 3600, ClockSet: true,
			}
		}
		if _, err := j.AppendBatch(batch); err != nil {
			b.Fatal(err)
		}
		done += len(batch)
	}
}
