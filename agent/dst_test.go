package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"timeclock/clock"
)

// Punches across the spring-forward and fall-back changes of 2026 in
// America/Chicago and America/New_York: stored in UTC with the zone's name
// and its offset at that instant, so the two 01:30s of the fall-back day
// are two different, unambiguous punches; the screen shows local time.
func TestPunchesAcrossDST(t *testing.T) {
	for _, tt := range []struct {
		zone   string
		utc    time.Time
		local  string // on the feedback screen
		offset int    // seconds east of UTC stored with the punch
	}{
		// Spring forward, Sunday 8 March 2026: 02:00 local becomes 03:00.
		{"America/Chicago", time.Date(2026, 3, 8, 7, 59, 0, 0, time.UTC), "01:59", -6 * 3600},
		{"America/Chicago", time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC), "03:00", -5 * 3600},
		{"America/New_York", time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC), "01:59", -5 * 3600},
		{"America/New_York", time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), "03:00", -4 * 3600},
		// Fall back, Sunday 1 November 2026: 02:00 local becomes 01:00; 01:30 happens twice.
		{"America/Chicago", time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), "01:30", -5 * 3600},
		{"America/Chicago", time.Date(2026, 11, 1, 7, 30, 0, 0, time.UTC), "01:30", -6 * 3600},
		{"America/New_York", time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), "01:30", -4 * 3600},
		{"America/New_York", time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), "01:30", -5 * 3600},
	} {
		t.Run(fmt.Sprintf("%s/%s", tt.zone, tt.utc.Format("2006-01-02T15:04Z")), func(t *testing.T) {
			cfg := rosterConfig(t)
			cfg.Timezone = tt.zone
			cfg.StateDir = t.TempDir()
			r := startRig(t, cfg, 20, 4, clock.NewFake(tt.utc))
			r.idle()
			r.badge("10003")
			r.waitScreen("Alan Turing")
			r.waitScreen(tt.local)
			p := r.punches()[0]
			if !p.Time.Equal(tt.utc) || p.TZ != tt.zone || p.TZOffset != tt.offset {
				t.Errorf("punch at %v %s %+d s, want %v %s %+d s", p.Time, p.TZ, p.TZOffset, tt.utc, tt.zone, tt.offset)
			}
			// Local time is recovered from the record alone, unambiguously.
			if got := p.Time.Add(time.Duration(p.TZOffset) * time.Second).Format("15:04"); got != tt.local {
				t.Errorf("UTC plus the stored offset reads %s, want %s", got, tt.local)
			}
		})
	}
}

// A standalone clock's time and zone are set at the console: the time is
// logged with its old and new value, one below the floor is refused, and
// the zone outlives a restart; a clock with a cloud refuses both.
func TestStandaloneTimeAndZoneByHand(t *testing.T) {
	cfg := rosterConfig(t)
	cfg.StateDir = t.TempDir()
	cfg.Version = "no-ntp"
	clk := clock.NewFake(rigStart)
	r := startRig(t, cfg, 20, 4, clk)
	r.idle()
	to := rigStart.Add(90 * time.Minute)
	old, err := r.agent.SetTime(context.Background(), to)
	if err != nil || !old.Equal(rigStart) || !clk.Now().Equal(to) {
		t.Fatalf("SetTime: old %v, %v; clock %v", old, err, clk.Now())
	}
	if !strings.Contains(r.log.String(), "clock set by hand 2026-11-23T08:59:30Z -> 2026-11-23T10:29:30Z (console)") {
		t.Errorf("the log does not say the old and new time:\n%s", r.log.String())
	}
	if _, err := r.agent.SetTime(context.Background(), time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("a time below the floor was set")
	}
	if err := r.agent.SetZone("America/Chicago"); err != nil {
		t.Fatal(err)
	}
	r.waitScreen("04:29") // 10:29 UTC in Chicago
	r.stop()
	r = startRig(t, cfg, 20, 4, clk)
	r.waitScreen("04:29")

	cfg.CloudURL = "https://cloud.example"
	cfg.StateDir = t.TempDir()
	a, err := New(cfg, r.agent.hw, Options{Clock: clk, ClockSetter: clk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SetTime(context.Background(), to); !errors.Is(err, errCloudTime) {
		t.Errorf("SetTime on a clock with a cloud: %v", err)
	}
	if err := a.SetZone("UTC"); !errors.Is(err, errCloudTime) {
		t.Errorf("SetZone on a clock with a cloud: %v", err)
	}
}
