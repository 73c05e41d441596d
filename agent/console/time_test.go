package console

import (
	"strings"
	"testing"
	"time"
)

// time set asks, then sets a local time in the clock's zone; time zone
// sets the zone; bad input is explained.
func TestTimeSetAndZone(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.login(p)
	if got := r.run(p, "time"); !strings.Contains(got, "zone=America/New_York") {
		t.Fatalf("time:\n%s", got)
	}
	if got := r.run(p, "time set yesterday"); !strings.Contains(got, `time "yesterday": want 2026-12-02T09:30`) {
		t.Fatalf("time set yesterday:\n%s", got)
	}
	r.typ(p, "time set 2026-11-01T01:30\r")
	r.expect(p, "Set the clock to Sun 2026-11-01 01:30:00 CDT? [y/N] ")
	if got := r.run(p, "y"); !strings.Contains(got, "Clock set: was 2016-12-04T01:02:03Z, now 2026-11-01T01:30:00-05:00.") {
		t.Fatalf("time set y:\n%s", got)
	}
	if got := r.run(p, "time zone America/Chicago"); !strings.Contains(got, "Zone set to America/Chicago.") {
		t.Fatalf("time zone:\n%s", got)
	}
	if got := r.run(p, "time zone Mars/Base"); !strings.Contains(strings.ToLower(got), "unknown time zone") {
		t.Fatalf("time zone Mars/Base:\n%s", got)
	}
	r.agent.mu.Lock()
	defer r.agent.mu.Unlock()
	want := time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC)
	if len(r.agent.setTimes) != 1 || !r.agent.setTimes[0].Equal(want) || r.agent.zone != "America/Chicago" {
		t.Errorf("SetTime %v (want %v), zone %q", r.agent.setTimes, want, r.agent.zone)
	}
}

func TestParseLocalTime(t *testing.T) {
	chi, _ := time.LoadLocation("America/Chicago")
	for in, want := range map[string]time.Time{
		"2026-03-08T01:59":          time.Date(2026, 3, 8, 7, 59, 0, 0, time.UTC),
		"2026-03-08T03:00:05":       time.Date(2026, 3, 8, 8, 0, 5, 0, time.UTC),
		"2026-11-01T15:30:05Z":      time.Date(2026, 11, 1, 15, 30, 5, 0, time.UTC),
		"2026-11-01T01:30:00-06:00": time.Date(2026, 11, 1, 7, 30, 0, 0, time.UTC),
	} {
		got, err := ParseLocalTime(in, chi)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseLocalTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "now", "2026-13-01T00:00", "09:30"} {
		if _, err := ParseLocalTime(bad, chi); err == nil {
			t.Errorf("ParseLocalTime(%q) accepted", bad)
		}
	}
}
