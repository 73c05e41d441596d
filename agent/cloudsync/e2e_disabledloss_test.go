package cloudsync_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/roster"
	"timeclock/agent/store"
	"timeclock/internal/await"
	"timeclock/internal/e2e"
)

// TestDisabledClockLosesItsState: a clock the administrator disabled, whose
// state file (with its disable record) is then lost while its credentials
// are still on it (the erase cut short, or a backup of the state directory
// put back), learns from its cloud (wire.PathStanding) at its first
// connection that it is disabled: it shows "Disabled by administrator",
// takes no punches and stays disabled, instead of taking punches the cloud
// refuses for ever. Punches it took before it learnt stay in its journal,
// never sent, and the screen does not offer to send them. A clock disabled
// "now" (it never gets the command) learns the same way. A clock whose
// credentials the disable erased starts at onboarding after the loss, which
// the cloud refuses.
func TestDisabledClockLosesItsState(t *testing.T) {
	for _, tc := range []struct {
		broker, name string
		taken        int  // punches taken after the loss, before the clock learnt
		erased       bool // the disable's erase of the credentials was not cut short
		damaged      bool // the pages holding the disable record damaged, not the file lost
		now          bool // disabled without its last transmission, no loss
	}{
		{broker: "embedded", name: "state-lost"},
		{broker: "embedded", name: "punches-taken", taken: 3},
		{broker: "embedded", name: "disable-record-damaged", damaged: true},
		{broker: "mosquitto", name: "state-lost"},
		{broker: "embedded", name: "credentials-erased", erased: true},
		{broker: "embedded", name: "disabled-now", now: true},
	} {
		t.Run(tc.broker+"/"+tc.name, func(t *testing.T) {
			c := startCloud(t, tc.broker)
			k, id := onboarded(t, c)
			k.Wait("Online")
			swipe(k, "10002", "Grace Hopper")
			cloudHas(t, c, id, 1)
			restarted := time.Now()
			if tc.now {
				if st := c.API(t, "POST", "/api/v1/devices/"+id+"/disable", map[string]bool{"now": true}, nil); st != 200 {
					t.Fatalf("disable now: %d", st)
				}
			} else {
				saved := filepath.Join(t.TempDir(), "identity")
				if out, err := exec.Command("cp", "-a", filepath.Join(k.Dir, "identity"), saved).CombinedOutput(); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				if st := c.API(t, "POST", "/api/v1/devices/"+id+"/disable", struct{}{}, nil); st != 200 {
					t.Fatalf("disable: %d", st)
				}
				k.Wait("Disabled by")
				await.True(t, wait, func() bool { return c.Device(t, id).Status == "disabled" }, "the cloud never saw the disable complete")
				k.Stop(t)

				// The state is lost (and the credentials back).
				if tc.damaged {
					damageDisableRecord(t, filepath.Join(k.Dir, "state.db"))
				} else if err := os.Remove(filepath.Join(k.Dir, "state.db")); err != nil {
					t.Fatal(err)
				}
				if !tc.erased {
					if out, err := exec.Command("cp", "-a", saved, filepath.Join(k.Dir, "identity")).CombinedOutput(); err != nil {
						t.Fatalf("%v: %s", err, out)
					}
				}
				if tc.taken > 0 {
					// A state file with no disable record and punches the
					// clock took after the loss.
					prefill(t, k.Dir, tc.taken)
				}
				restarted = time.Now()
				k = e2e.StartClock(t, k.Dir, c, nil)
			}
			if tc.erased {
				// Onboarding, which the cloud refuses.
				k.Wait("Company ID")
				k.Type(c.Company)
				k.Keys("enter")
				k.Wait("Demo Company")
				k.Keys("enter")
				k.Wait("Clock disabled")
				if st := k.Status(); st["state"] != "onboarding" || st["pending"] != 0.0 {
					t.Errorf("status %v", st)
				}
				cloudHas(t, c, id, 1)
				return
			}
			scr := k.Wait("Disabled by")
			t.Logf("\"Disabled by administrator\" %v after the start (or the disable)", time.Since(restarted).Round(time.Millisecond))
			if !strings.Contains(scr, "administrator") {
				t.Errorf("screen:\n%s", scr)
			}
			k.Wait("F4: set up again")
			await.True(t, wait, func() bool { return k.Status()["state"] == "disabled" }, "status %v", k.Status())
			if !strings.Contains(k.Log(), "the cloud says this clock was disabled by an administrator") {
				t.Error("the clock's log does not say the cloud told it")
			}
			if _, err := os.Stat(filepath.Join(k.Dir, "identity")); !os.IsNotExist(err) {
				t.Errorf("identity still on the clock: %v", err)
			}
			// Punches are refused.
			k.Sim.OK("badge 10002")
			await.True(t, wait, func() bool { return k.Sim.OK("leds")["red"] == true }, "no red LED for a refused punch")
			if st := k.Status(); st["pending"] != float64(tc.taken) {
				t.Errorf("pending %v, want the %d punches taken before the clock learnt", st["pending"], tc.taken)
			}
			if scr := k.Sim.Screen(); strings.Contains(scr, "Sending") || strings.Contains(scr, "Offline") || strings.Contains(scr, "refused") {
				t.Errorf("the disabled screen offers to send:\n%s", scr)
			}
			cloudHas(t, c, id, 1)
			// Still disabled after a restart, with nothing to ask with.
			k.Stop(t)
			k = e2e.StartClock(t, k.Dir, c, nil)
			k.Wait("F4: set up again")
			if st := k.Status(); st["state"] != "disabled" {
				t.Errorf("after a restart: status %v", st)
			}
		})
	}
}

// damageDisableRecord overwrites with garbage every page of a state file
// (not the meta pages) that holds a disable record, the current one and
// the older copies on freed pages: the salvage keeps no disable record.
func damageDisableRecord(t *testing.T, path string) {
	t.Helper()
	st, hit := smashPages(t, path, `"phase":"`)
	if st.Disabled() != nil {
		t.Fatalf("the salvage kept a disable record: %s", st.Disabled())
	}
	t.Logf("%d pages damaged; the salvage keeps no disable record", hit)
}

// smashPages overwrites with garbage every page of the state file at path
// that holds needle, the meta pages excepted, and returns what the clock
// will salvage from it (opened from a copy of the same bytes, so the clock
// still finds the damage) and how many pages were hit.
func smashPages(t *testing.T, path, needle string) (*store.Store, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	hit := 0
	for off := 2 * page; off+page <= len(b); off += page {
		if bytes.Contains(b[off:off+page], []byte(needle)) {
			copy(b[off:off+page], bytes.Repeat([]byte{0xAA}, page))
			hit++
		}
	}
	if hit == 0 {
		t.Fatalf("no page of %s holds %q", path, needle)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cp := t.TempDir()
	if err := os.WriteFile(filepath.Join(cp, "state.db"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cp, store.Options{Rules: append(journal.Rules(), roster.Rules()...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if n, ok := st.Notice(); !ok || n.Lost {
		t.Fatalf("the damage was not salvaged: %+v %v", n, ok)
	}
	return st, hit
}
