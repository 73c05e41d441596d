package agent

import (
	"fmt"
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
