package cloudsync

import (
	"testing"
	"time"
)

// seqRand returns its values in turn.
type seqRand struct {
	v []float64
	i int
}

func (r *seqRand) Float64() float64 {
	f := r.v[r.i%len(r.v)]
	r.i++
	return f
}

func TestBackoffSchedule(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		name     string
		min, max time.Duration
		rnd      []float64
		want     []time.Duration
	}{
		{"ceilings double up to max", time.Second, 5 * time.Minute, []float64{0.999999999},
			[]time.Duration{999999999, 1999999998, 3999999996, 7999999992, 15999999984, 31999999968, 63999999936,
				127999999872, 255999999744, 299999999700, 299999999700}},
		{"half of each ceiling", 100 * ms, 1000 * ms, []float64{0.5},
			[]time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 500 * ms, 500 * ms}},
		{"full jitter reaches zero", time.Second, time.Minute, []float64{0, 0.25},
			[]time.Duration{0, 500 * ms, 0, 2 * time.Second}},
		{"min equals max", time.Second, time.Second, []float64{0.5}, []time.Duration{500 * ms, 500 * ms, 500 * ms}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &backoff{min: tc.min, max: tc.max, rnd: &seqRand{v: tc.rnd}}
			for i, w := range tc.want {
				if got := b.next(); got != w {
					t.Errorf("wait %d = %v, want %v", i, got, w)
				}
			}
			b.reset()
			if got, w := b.next(), time.Duration(tc.rnd[len(tc.want)%len(tc.rnd)]*float64(tc.min)); got != w {
				t.Errorf("after reset: %v, want %v", got, w)
			}
		})
	}
}

// TestBackoffCeilingNeverOverflows: thousands of failures in a row (a clock
// offline for weeks) still wait at most max.
func TestBackoffCeilingNeverOverflows(t *testing.T) {
	b := &backoff{min: time.Second, max: 5 * time.Minute, rnd: &seqRand{v: []float64{0.999}}}
	for range 10000 {
		if d := b.next(); d < 0 || d >= 5*time.Minute {
			t.Fatalf("wait %v out of [0, 5m)", d)
		}
	}
}
