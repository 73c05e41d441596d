// Package await is how tests wait: on a condition, with a deadline, never by
// sleeping a guessed time.
package await

import (
	"testing"
	"time"
)

// poll is how often a condition is re-checked.
const poll = 5 * time.Millisecond

// True waits until cond returns true, failing the test after timeout with
// the message (formatted with args).
func True(t testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: "+msg, append([]any{timeout}, args...)...)
		}
		<-tick.C
	}
}

// Value waits until get returns ok, and returns its value.
func Value[T any](t testing.TB, timeout time.Duration, get func() (T, bool), msg string, args ...any) T {
	t.Helper()
	var v T
	True(t, timeout, func() bool {
		var ok bool
		v, ok = get()
		return ok
	}, msg, args...)
	return v
}
