package cloudsync_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
// never sent, and the screen does not offer to send them.
func TestDisabledClockLosesItsState(t *testing.T) {
	for _, tc := range []struct {
		broker string
		taken  int // punches taken after the loss, before the clock learnt
	}{{"embedded", 0}, {"embedded", 3}, {"mosquitto", 0}} {
		name := tc.broker + "/state-lost"
		if tc.taken > 0 {
			name = tc.broker + "/punches-taken"
		}
		t.Run(name, func(t *testing.T) {
			c := startCloud(t, tc.broker)
			k, id := onboarded(t, c)
			k.Wait("Online")
			swipe(k, "10002", "Grace Hopper")
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

			// The state is lost, the credentials are back.
			if err := os.Remove(filepath.Join(k.Dir, "state.db")); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("cp", "-a", saved, filepath.Join(k.Dir, "identity")).CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if tc.taken > 0 {
				// A state file with no disable record and punches the
				// clock took after the loss.
				prefill(t, k.Dir, tc.taken)
			}
			k = e2e.StartClock(t, k.Dir, c, nil)
			scr := k.Wait("Disabled by")
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
