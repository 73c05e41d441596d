package cloud

import (
	"sync"
	"time"

	"timeclock/clock"
)

// offsetClock is the real clock plus an offset that only grows: the dev
// cloud's clock, which end-to-end tests move forward through the admin API
// (to expire a code without waiting ten minutes). Timers run in real time.
type offsetClock struct {
	clock.Real

	mu     sync.Mutex
	offset time.Duration // guarded by mu
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Real.Now().Add(c.offset)
}

// Advance moves the clock forward by d and returns the new time.
func (c *offsetClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
	return c.Now()
}
