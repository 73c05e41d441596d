package journal

import (
	"fmt"
	"testing"

	"timeclock/agent/store"
	"timeclock/clock"
)

// BenchmarkOpenFull: opening a state file with 200,000 pending punches as
// the clock does, the full read-only check of every page and record
// included (store.Open with the journal's rules, then journal.Open). The
// start budget is 1 s; this is its storage part.
func BenchmarkOpenFull(b *testing.B) {
	dir := b.TempDir()
	st, j := openJournal(b, dir, Options{})
	for i := range 200 {
		ps := make([]Punch, 1000)
		for k := range ps {
			ps[k] = punch(fmt.Sprint("E", i*1000+k), KindIn, t0)
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
		b.Run(bc.name, func(b *testing.B) { benchOpen(b, dir, bc.rules) })
	}
}

func benchOpen(b *testing.B, dir string, rules []store.Rule) {
	for b.Loop() {
		st, err := store.Open(dir, store.Options{Clock: clock.NewFake(t0), Rules: rules})
		if err != nil {
			b.Fatal(err)
		}
		j, err := Open(st, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if j.Pending() != 200_000 {
			b.Fatalf("pending %d", j.Pending())
		}
		j.Close()
		st.Close()
	}
}
