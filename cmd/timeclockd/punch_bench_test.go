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

// punchClock is a real timeclockd on the sim board, idle and ready to
// punch: a roster of two workers (badges 1000000 and 1000001) and no
// duplicate window, so one badge after another is always accepted.
type punchClock struct {
	p   *daemontest.Proc
	s   *daemontest.Sim
	dir string // the state directory
	n   int    // punches taken
}

// startPunchClock starts bin with extra config keys (beside
// duplicate_window 0s) on the state directory dir and waits for the idle
// screen.
func startPunchClock(b *testing.B, bin, dir string, extra map[string]any) *punchClock {
	b.Helper()
	return startPunchClockVia(b, nil, bin, dir, extra)
}

// startPunchClockVia is startPunchClock with bin run by the command wrap
// (strace and its arguments; nil: bin itself).
func startPunchClockVia(b *testing.B, wrap []string, bin, dir string, extra map[string]any) *punchClock {
	b.Helper()
	cfg := map[string]any{"duplicate_window": "0s"}
	for k, v := range extra {
		cfg[k] = v
	}
	roster := writeWorkers(b, b.TempDir(), 2)
	conf := writeConfig(b, b.TempDir(), cfg)
	sock := filepath.Join(dir, "sim.sock")
	args := []string{"--state-dir", dir, "--sim-socket", sock, "--roster-file", roster, "--config", conf, "--log-level", "warn"}
	var p *daemontest.Proc
	if wrap == nil {
		p = daemontest.Start(b, bin, args...)
	} else {
		p = daemontest.Start(b, wrap[0], append(append(wrap[1:len(wrap):len(wrap)], bin), args...)...)
		killTracee(b, p.Cmd.Process.Pid)
	}
	s := daemontest.DialSim(b, sock, 20*time.Second)
	s.WaitScreen("Badge or PIN", 20*time.Second)
	return &punchClock{p: p, s: s, dir: dir}
}

// punch swipes the next worker's badge and waits (server side) for the
// accepted screen, which names the worker: the punch is durable.
func (c *punchClock) punch(b *testing.B) {
	b.Helper()
	i := c.n % 2
	c.n++
	c.s.OK("badge %d", 1_000_000+i)
	c.s.WaitScreen(workerName(i), 5*time.Second)
}

// stop ends the clock as systemd does (SIGTERM) and waits for it.
func (c *punchClock) stop(b *testing.B) {
	b.Helper()
	c.p.Cmd.Process.Signal(syscall.SIGTERM)
	c.p.Wait(b, 20*time.Second)
}

// BenchmarkBadgeToFeedback measures, on a real timeclockd with the sim
// board, from sending "badge N" on the control socket to the control
// socket's server-side wait seeing the accepted screen: the badge event,
// roster lookup, durable (fsynced) punch and the feedback screen. Each
// iteration is 50 punches, alternating two employees.
func BenchmarkBadgeToFeedback(b *testing.B) {
	c := startPunchClock(b, daemontest.Build(b, "timeclock/cmd/timeclockd"), b.TempDir(), nil)
	var rec latency.Recorder
	for b.Loop() {
		for range 50 {
			start := time.Now()
			c.punch(b)
			rec.Add(time.Since(start))
		}
	}
	rec.Report(b)
	c.stop(b)
}

// BenchmarkPending200k fills a state file with 200,000 pending punches,
// starts timeclockd on it, takes one more punch, and reports the state
// file's size and the process's resident memory (VmRSS).
func BenchmarkPending200k(b *testing.B) {
	bin := daemontest.Build(b, "timeclock/cmd/timeclockd")
	dir := b.TempDir()
	const n = 200_000
	fillJournal(b, dir, n)
	var rss, size float64
	for b.Loop() {
		// Capacity above 200,000 so the extra punch is taken.
		c := startPunchClock(b, bin, dir, map[string]any{"capacity": 250_000})
		c.punch(b)
		if st := c.s.OK("status"); st["pending"].(float64) < n {
			b.Fatalf("status pending %v", st["pending"])
		}
		rss = max(rss, float64(c.p.RSS(b)))
		c.stop(b)
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
