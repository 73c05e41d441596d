package cloudsync_test

import (
	"strings"
	"testing"
	"time"

	"timeclock/internal/await"
	"timeclock/internal/e2e"
)

// TestClockFarInThePastSetsItsTime: a simulated board whose wall clock
// starts ten years in the past (no RTC battery) onboards (TLS checks use
// port 80's time; the HTTPS Date is measured but the clock is held while the
// code's countdown runs) and sets its clock from the sync's first acks, over
// TLS checked at port 80's time too; restarted in the
// past again, with the cloud down, it takes a punch on an unset clock; when
// the cloud comes back it sets its time from the cloud's acks within 10 s
// of connecting, and the punch reaches the cloud corrected, beside its
// original time.
func TestClockFarInThePastSetsItsTime(t *testing.T) {
	c := e2e.StartCloud(t, e2e.CloudOptions{})
	past := map[string]any{}
	for k, v := range e2e.FastSync {
		past[k] = v
	}
	past["sim_clock_offset"] = "-87600h"
	past["feedback_time"] = "2s" // the swipe's screen outlasts a loaded machine's pause
	k := e2e.StartClock(t, t.TempDir(), c, past)
	id := k.Onboard(t, c)
	await.True(t, wait, func() bool { return c.Device(t, id).RosterVersion > 0 }, "the roster never reached the clock")
	await.True(t, wait, func() bool { return k.Status()["clock_source"] == "cloud" }, "the clock was never set after onboarding: %v", k.Status())
	if !strings.Contains(k.Log(), "clock set 20") {
		t.Fatalf("no clock set line in the log")
	}

	// A boot without an RTC again, and no cloud: the punch's time is unset.
	k.Stop(t)
	c.Stop(t)
	k = e2e.StartClock(t, k.Dir, c, past)
	k.Wait("Badge or PIN")
	if got := k.Status()["clock_source"]; got != "unset" {
		t.Fatalf("clock_source before the cloud = %v, want unset", got)
	}
	before := time.Now()
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range strings.Split(k.Log(), "\n") {
				if !strings.Contains(l, "unreachable") && !strings.Contains(l, "reconnecting") {
					t.Log(l)
				}
			}
		}
	})
	swipe(k, "10002", "Grace Hopper")
	after := time.Now()

	c.Restart(t)
	connected := time.Now()
	await.True(t, wait, func() bool { return k.Status()["clock_source"] == "cloud" }, "the clock never set its time from the cloud")
	took := time.Since(connected)
	// From the clock's own log: connected, then set.
	if on, set := logTime(k.Log(), "cloud offline -> online"), logTime(k.Log(), "clock set "); !on.IsZero() && !set.IsZero() {
		took = set.Sub(on)
	}
	if took > 10*time.Second {
		t.Errorf("the clock took %v to set its time after the cloud came back, want < 10 s", took)
	}
	var p e2e.Punch
	await.True(t, wait, func() bool {
		ps := c.Punches(t, id)
		if len(ps) != 1 {
			return false
		}
		p = ps[0]
		return p.Corrected
	}, "the punch never reached the cloud corrected")
	if p.TimeSource != "unset" || p.ClockSet || p.OriginalTime.Year() > 2020 || p.CorrectedAt.IsZero() {
		t.Errorf("cloud punch %+v", p)
	}
	errMS := offBy(p.Time, before, after)
	if errMS > 1000 {
		t.Errorf("corrected time %v is %d ms off the swipe (between %v and %v)", p.Time, errMS, before, after)
	}
	// A punch now carries the cloud's time.
	k.Wait("Badge or PIN")
	before = time.Now()
	swipe(k, "10001", "Ada Lovelace")
	k.Keys("enter")
	after = time.Now()
	var q e2e.Punch
	await.True(t, wait, func() bool {
		ps := c.Punches(t, id)
		if len(ps) != 2 {
			return false
		}
		q = ps[1]
		return true
	}, "the second punch never reached the cloud")
	if q.TimeSource != "cloud" || q.Corrected || !q.ClockSet {
		t.Errorf("punch after the clock was set %+v", q)
	}
	t.Logf("time from connecting to the clock set: %v; corrected punch off by %d ms; punch on the set clock off by %d ms; status %v",
		took.Round(time.Millisecond), errMS, offBy(q.Time, before, after), k.Status())
}

// logTime is the time= of the last log line with msg in it (zero if none).
func logTime(log, msg string) time.Time {
	var at time.Time
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, msg) || !strings.HasPrefix(l, "time=") {
			continue
		}
		f, _, _ := strings.Cut(strings.TrimPrefix(l, "time="), " ")
		if t, err := time.Parse(time.RFC3339Nano, f); err == nil {
			at = t
		}
	}
	return at
}

// offBy is how far t lies outside [from, to], in ms (0 inside).
func offBy(t, from, to time.Time) int64 {
	switch {
	case t.Before(from):
		return from.Sub(t).Milliseconds()
	case t.After(to):
		return t.Sub(to).Milliseconds()
	}
	return 0
}
