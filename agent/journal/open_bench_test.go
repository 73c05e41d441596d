package journal

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"timeclock/agent/store"
	"timeclock/clock"
)

// BenchmarkOpenFull: opening a state file with N pending punches as the
// clock does, the full read-only check of every page and record included
// (store.Open with the journal's rules, then journal.Open), and with the
// page check alone. The start budget is 1 s; this is its storage part.
func BenchmarkOpenFull(b *testing.B) {
	for _, n := range []int{10_000, 200_000} {
		dir := b.TempDir()
		st, j := openJournal(b, dir, Options{})
		for i := 0; i < n; i += 1000 {
			ps := make([]Punch, 1000)
			for k := range ps {
				ps[k] = punch(fmt.Sprint("E", i+k), KindIn, t0)
			}
			if _, err := j.AppendBatch(ps); err != nil {
				b.Fatal(err)
			}
		}
		j.Close()
		st.Close()
		for _, bc := range []struct {
			name  string
			rules []store.Rule
		}{{"pages+records", Rules()}, {"pages only", nil}} {
			b.Run(fmt.Sprintf("%d/%s", n, bc.name), func(b *testing.B) { benchOpen(b, dir, bc.rules, n) })
		}
	}
}

func benchOpen(b *testing.B, dir string, rules []store.Rule, n int) {
	cpu0 := cpuTime()
	for b.Loop() {
		st, err := store.Open(dir, store.Options{Clock: clock.NewFake(t0), Rules: rules})
		if err != nil {
			b.Fatal(err)
		}
		j, err := Open(st, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if j.Pending() != n {
			b.Fatalf("pending %d", j.Pending())
		}
		j.Close()
		st.Close()
	}
	// The process's CPU time per open: on a shared machine the wall time
	// swings with the load, the CPU time much less.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
