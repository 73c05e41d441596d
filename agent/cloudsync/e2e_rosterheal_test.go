package cloudsync_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/agent/roster"
	"timeclock/internal/await"
	"timeclock/internal/e2e"
)

// TestRosterBackAfterStorageDamage: a clock whose state file was lost or
// damaged after it confirmed a roster checks in with roster version 0, and
// the cloud sends it the whole roster at once: an employee whose record was
// lost punches again, with no roster change at the cloud.
func TestRosterBackAfterStorageDamage(t *testing.T) {
	const lostName = "Marie Curie"
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"storage lost", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{"storage damaged", func(t *testing.T, path string) {
			// Garbage over every page holding her name: her employee
			// record and the root page (its inline last_punch bucket
			// names her), so the salvage reaches no employee (the log
			// line counts them: 0 of 46), the roster at version 0.
			st, hit := smashPages(t, path, lostName)
			ros, err := roster.Open(st)
			if err != nil {
				t.Fatal(err)
			}
			r := ros.Current()
			if _, ok := r.ByBadge("30001"); ok || r.Version() != 0 {
				t.Fatalf("the salvaged roster: version %d, %s still in it", r.Version(), lostName)
			}
			t.Logf("%d pages damaged; the salvaged roster has %d employees", hit, r.Len())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startCloud(t, "embedded")
			dir := t.TempDir()
			k := e2e.StartClock(t, dir, c, nil)
			id := k.Onboard(t, c)
			await.True(t, wait, func() bool { return c.Device(t, id).RosterVersion > 0 }, "the roster never reached the clock")
			// Her, and enough others that the employees have pages of
			// their own in the state file.
			emps := []map[string]any{{"id": "E200", "name": lostName, "badges": []string{"30001"}, "pin": "9876"}}
			for i := range 40 {
				emps = append(emps, map[string]any{"id": fmt.Sprintf("E3%02d", i), "name": fmt.Sprintf("Worker %02d", i),
					"badges": []string{fmt.Sprint(40000 + i)}})
			}
			before := c.Device(t, id).RosterVersion
			var out map[string]any
			if st := c.API(t, "PATCH", "/api/v1/roster", map[string]any{"upsert": emps}, &out); st != 200 {
				t.Fatalf("roster: %d %v", st, out)
			}
			await.True(t, wait, func() bool { return c.Device(t, id).RosterVersion > before }, "the roster change never reached the clock")
			confirmed := c.Device(t, id).RosterVersion
			swipe(k, "30001", lostName)
			cloudHas(t, c, id, 1)
			k.Stop(t)

			tc.damage(t, filepath.Join(dir, "state.db"))

			restarted := time.Now()
			k = e2e.StartClock(t, dir, c, nil)
			k.Wait("Storage recovered")
			await.True(t, wait, func() bool {
				return strings.Contains(c.Log(), "the clock lost the roster it confirmed") && c.Device(t, id).RosterVersion == confirmed
			}, "the cloud never sent the clock its roster again (confirmed %d now)", c.Device(t, id).RosterVersion)
			t.Logf("the whole roster back at the clock %v after its restart", time.Since(restarted).Round(time.Millisecond))
			swipe(k, "30001", lostName)
			swipe(k, "40007", "Worker 07")
			cloudHas(t, c, id, 3)
			if strings.Contains(c.Log(), "9876") || strings.Contains(k.Log(), "9876") {
				t.Error("a PIN reached a log")
			}
		})
	}
}
