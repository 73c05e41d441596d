// Package clock is the time source the agent, onboarding and cloud take as a
// parameter, so tests can move time by hand. Real wraps package time; Fake
// (in fake.go) only moves when told.
package clock

import "time"

// Clock tells the time and makes timers.
type Clock interface {
	Now() time.Time
	// NewTimer fires once after d, like time.NewTimer.
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer the code uses.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// Real is the system clock.
type Real struct{}

// Now is time.Now.
func (Real) Now() time.Time { return time.Now() }

// NewTimer is time.NewTimer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// MinValid is the earliest wall time taken as set: a clock showing an earlier
// date has not been set since boot (no RTC battery, no NTP yet).
var MinValid = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// IsSet reports whether t looks like real time rather than an unset clock.
func IsSet(t time.Time) bool { return !t.Before(MinValid) }
