package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a clock that moves only on Advance or Set. Timers fire, in order,
// when the time passes their deadline. It is safe for concurrent use.
type Fake struct {
	mu     sync.Mutex
	now    time.Time    // guarded by mu
	timers []*fakeTimer // guarded by mu; armed timers
}

// NewFake returns a fake clock showing t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward by d, firing the timers it passes.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.setLocked(f.now.Add(d))
	f.mu.Unlock()
}

// Set jumps the clock to t (backwards too, as a clock being set does).
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.setLocked(t)
	f.mu.Unlock()
}

func (f *Fake) setLocked(t time.Time) {
	f.now = t
	sort.Slice(f.timers, func(i, j int) bool { return f.timers[i].when.Before(f.timers[j].when) })
	kept := f.timers[:0]
	for _, tm := range f.timers {
		if !tm.when.After(t) {
			select {
			case tm.c <- t:
			default:
			}
			tm.armed = false
			continue
		}
		kept = append(kept, tm)
	}
	f.timers = kept
}

// Timers reports how many timers are armed; tests wait on it to know the code
// under test is blocked on the clock.
func (f *Fake) Timers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// NewTimer arms a timer that fires when the fake time reaches now+d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

type fakeTimer struct {
	f     *Fake
	c     chan time.Time
	when  time.Time // guarded by f.mu
	armed bool      // guarded by f.mu
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	return t.stopLocked()
}

func (t *fakeTimer) stopLocked() bool {
	was := t.armed
	if was {
		for i, o := range t.f.timers {
			if o == t {
				t.f.timers = append(t.f.timers[:i], t.f.timers[i+1:]...)
				break
			}
		}
	}
	t.armed = false
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.stopLocked()
	// Like time.Timer since Go 1.23: no stale value after Reset.
	select {
	case <-t.c:
	default:
	}
	t.when = t.f.now.Add(d)
	if d <= 0 {
		t.c <- t.f.now
		return was
	}
	t.armed = true
	t.f.timers = append(t.f.timers, t)
	return was
}

// SetTime is Set, so a Fake is the clock setter of tests too.
func (f *Fake) SetTime(t time.Time) error {
	f.Set(t)
	return nil
}
