package outofservice

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/hal"
	"timeclock/hal/sim"
	"timeclock/internal/await"
)

const wait = 10 * time.Second

var t0 = time.Date(2026, 12, 3, 8, 0, 0, 300_000_000, time.UTC)

// rig runs the mode on a sim board with a fake clock.
type rig struct {
	b    *sim.Board
	clk  *clock.Fake
	done chan error
	stop context.CancelFunc

	mu      sync.Mutex
	refused []string  // guarded by mu
	ticks   []float64 // guarded by mu; seconds left at each Tick
}

func start(t *testing.T, pause time.Duration, finger hal.FingerReader) *rig {
	t.Helper()
	b, err := sim.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{b: b, clk: clock.NewFake(t0), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	dev := Devices{Display: b.Display(), Keypad: b.Keypad(), Badges: []hal.BadgeReader{b.BadgeReader()},
		Finger: finger, Indicator: b.Indicator()}
	o := Options{Clock: r.clk, RetryAt: t0.Add(pause),
		Tick: func(left time.Duration) {
			r.mu.Lock()
			r.ticks = append(r.ticks, left.Seconds())
			r.mu.Unlock()
		},
		Refused: func(kind string) {
			r.mu.Lock()
			r.refused = append(r.refused, kind)
			r.mu.Unlock()
		}}
	go func() { r.done <- Run(ctx, dev, o) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(wait):
			t.Error("Run did not return after its context ended")
		}
		b.Halt()
	})
	return r
}

func (r *rig) waitLine(t *testing.T, text string) {
	t.Helper()
	await.True(t, wait, func() bool {
		return slices.ContainsFunc(r.b.Screen(), func(l string) bool { return strings.Contains(l, text) })
	},
		"no screen line with %q; screen %q", text, r.b.Screen())
}

// advance moves the fake clock once the mode waits on its countdown timer.
func (r *rig) advance(t *testing.T, d time.Duration) {
	t.Helper()
	await.True(t, wait, func() bool { return r.clk.Timers() > 0 }, "the mode never armed its countdown timer")
	r.clk.Advance(d)
}

func (r *rig) refusedKinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.refused)
}

func TestScreenCountsDownThenReturns(t *testing.T) {
	r := start(t, 5*time.Minute, nil)
	r.waitLine(t, "Retry in 5:00")
	want := []string{"   Out of service", " Use another clock", "", "   Retry in 5:00"}
	if got := r.b.Screen(); !slices.Equal(got, want) {
		t.Errorf("screen %q, want %q", got, want)
	}
	if l := r.b.Lights(); !l.Red || l.Green || l.Beeps != 0 {
		t.Errorf("lights %+v: want the red LED on, the green off, no beep", l)
	}
	r.advance(t, time.Second)
	r.waitLine(t, "Retry in 4:59")
	r.advance(t, 4*time.Minute+58*time.Second)
	r.waitLine(t, "Retry in 0:01")
	select {
	case err := <-r.done:
		t.Fatalf("Run returned %v with a second left", err)
	default:
	}
	r.advance(t, time.Second)
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run at the retry time: %v, want nil (try the agent)", err)
		}
		r.done <- err // for the cleanup
	case <-time.After(wait):
		t.Fatal("Run did not return at the retry time")
	}
	if got := r.b.Screen()[3]; !strings.Contains(got, "Retrying now") {
		t.Errorf("last screen line %q, want Retrying now", got)
	}
	r.mu.Lock()
	ticks := slices.Clone(r.ticks)
	r.mu.Unlock()
	if len(ticks) < 4 || ticks[0] != 300 || ticks[len(ticks)-1] != 0 {
		t.Errorf("ticks %v: want 300 first, 0 last", ticks)
	}
}

// A badge, a key and a finger each get the error beep; the screen stays
// and the red LED stays on.
func TestInputsGetTheErrorFeedback(t *testing.T) {
	f := newFakeFinger()
	r := start(t, 5*time.Minute, f)
	r.waitLine(t, "Retry in 5:00")
	before := r.b.Screen()
	steps := []struct {
		kind string
		do   func() error
	}{
		{"badge", func() error { return r.b.Swipe("10002") }},
		{"key", func() error { return r.b.Press(hal.Key5) }},
		{"key", func() error { return r.b.Press(hal.KeyEnter) }},
		{"finger", func() error { f.place(); return nil }},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatal(err)
		}
		await.True(t, wait, func() bool { return r.b.Lights().Beeps == i+1 }, "%s: %d beeps, want %d", s.kind, r.b.Lights().Beeps, i+1)
		if l := r.b.Lights(); l.Buzzer != "error" || !l.Red || l.Green {
			t.Errorf("after a %s: lights %+v, want the error pattern and the red LED", s.kind, l)
		}
		if got := r.refusedKinds(); len(got) != i+1 || got[i] != s.kind {
			t.Errorf("refused %q, want %s last", got, s.kind)
		}
	}
	if got := r.b.Screen(); !slices.Equal(got, before) {
		t.Errorf("screen after the inputs %q, want it unchanged %q", got, before)
	}
}

func TestContextEndsRun(t *testing.T) {
	r := start(t, time.Hour, nil)
	r.waitLine(t, "Retry in 1:00:00")
	r.stop()
	select {
	case err := <-r.done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run after cancel: %v, want context.Canceled", err)
		}
		r.done <- err // for the cleanup
	case <-time.After(wait):
		t.Fatal("Run did not return after cancel")
	}
}

// A display that fails does not stop the countdown: the retry keeps its
// pace.
func TestBrokenDisplayStillRetries(t *testing.T) {
	b, err := sim.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Halt()
	clk := clock.NewFake(t0)
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Devices{Display: brokenDisplay{b.Display()}, Indicator: b.Indicator()},
			Options{Clock: clk, RetryAt: t0.Add(3 * time.Second)})
	}()
	for range 3 {
		await.True(t, wait, func() bool { return clk.Timers() > 0 }, "no countdown timer")
		clk.Advance(time.Second)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Run with a broken display did not return at the retry time")
	}
}

func TestScreenSizes(t *testing.T) {
	for _, tc := range []struct {
		cols, rows int
		left       time.Duration
		want       []string
	}{
		{16, 2, 299 * time.Second, []string{" Out of service", " Retry in 4:59"}},
		{20, 4, 300 * time.Second, []string{"   Out of service", " Use another clock", "", "   Retry in 5:00"}},
		{21, 8, 20 * time.Second, []string{"   Out of service", "  Use another clock", "", "    Retry in 0:20"}},
		{16, 4, 5 * time.Second, []string{" Out of service", "Use other clock", "", " Retry in 0:05"}},
		{20, 3, 0, []string{"   Out of service", " Use another clock", "    Retrying now"}},
		{16, 1, time.Second, []string{" Out of service"}},
	} {
		got := Screen(tc.cols, tc.rows, tc.left)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Screen(%d, %d, %v) = %q, want %q", tc.cols, tc.rows, tc.left, got, tc.want)
		}
		for _, l := range got {
			if len(l) > tc.cols {
				t.Errorf("Screen(%d, %d): line %q is wider than the display", tc.cols, tc.rows, l)
			}
		}
	}
}

func TestCountdownAndLeft(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second: "0:01", 59 * time.Second: "0:59", time.Minute: "1:00", 5 * time.Minute: "5:00",
		time.Hour: "1:00:00", time.Hour + 61*time.Second: "1:01:01", 1500 * time.Millisecond: "0:02",
	} {
		if got := Countdown(d); got != want {
			t.Errorf("Countdown(%v) = %q, want %q", d, got, want)
		}
	}
	for _, tc := range []struct{ d, want time.Duration }{
		{0, 0}, {-time.Second, 0}, {time.Millisecond, time.Second}, {time.Second, time.Second},
		{1001 * time.Millisecond, 2 * time.Second},
	} {
		if got := Left(t0, t0.Add(tc.d)); got != tc.want {
			t.Errorf("Left(+%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

type brokenDisplay struct{ hal.Display }

func (brokenDisplay) Show([]string) error { return errors.New("i2c: no ACK") }

// fakeFinger is a fingerprint reader a test places fingers on.
type fakeFinger struct {
	c      chan hal.FingerEvent
	halted chan struct{}
	once   sync.Once
}

func newFakeFinger() *fakeFinger {
	return &fakeFinger{c: make(chan hal.FingerEvent, 1), halted: make(chan struct{})}
}

func (f *fakeFinger) place() { f.c <- hal.FingerEvent{Matched: true, Slot: 3, Score: 120} }

func (f *fakeFinger) String() string { return "fake-finger" }
func (f *fakeFinger) Halt() error {
	f.once.Do(func() { close(f.halted) })
	return nil
}
func (f *fakeFinger) ReadFinger(ctx context.Context) (hal.FingerEvent, error) {
	select {
	case ev := <-f.c:
		return ev, nil
	case <-ctx.Done():
		return hal.FingerEvent{}, ctx.Err()
	case <-f.halted:
		return hal.FingerEvent{}, hal.ErrHalted
	}
}
