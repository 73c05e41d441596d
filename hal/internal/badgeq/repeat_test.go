package badgeq

import (
	"testing"
	"time"
)

func TestRepeatFilter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	f := RepeatFilter{Window: time.Second}
	for i, s := range []struct {
		card string
		ms   int
		want bool
	}{
		{"A", 0, true},
		{"A", 100, false},  // held
		{"A", 1050, false}, // still held: each sighting restarts the window
		{"B", 1100, true},  // another card
		{"A", 1200, true},  // back to A: a different card came between
		{"A", 2300, true},  // taken away for more than the window
		{"A", 2299, true},  // the clock stepped back: do not swallow reads
		{"A", 2400, false},
	} {
		if got := f.Fresh(s.card, at(s.ms)); got != s.want {
			t.Fatalf("step %d: Fresh(%s, +%dms) = %v, want %v", i, s.card, s.ms, got, s.want)
		}
	}
}
