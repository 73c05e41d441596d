package runsh

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"timeclock/internal/await"
	"timeclock/internal/daemontest"
	"timeclock/internal/tmuxtest"
)

// TestMakeRunOnboards is the new user's first run: make run, the demo
// company ID from the cloud's output, the code from its DEV MAIL, typed on
// the clock, and the clock is onboarded and idle.
func TestMakeRunOnboards(t *testing.T) {
	r := setup(t)
	s := tmuxtest.Start(t, r.env, "cd "+repo(t)+" && NO_TMUX=1 scripts/run.sh")
	sim := daemontest.DialSim(t, filepath.Join(r.dir, "clock", "sim.sock"), 60*time.Second)
	sim.WaitScreen("Company ID", 30*time.Second)
	out, _ := os.ReadFile(filepath.Join(r.dir, "cloud", "cloud.out"))
	company := regexp.MustCompile(`(?m)^demo company ID: (\d+)$`).FindSubmatch(out)[1]
	for _, d := range company {
		sim.OK("key %c", d)
	}
	sim.OK("key enter")
	sim.WaitScreen("Demo Company", 30*time.Second)
	sim.OK("key enter")
	sim.WaitScreen("Expires in", 30*time.Second)
	code := await.Value(t, 30*time.Second, func() (string, bool) {
		b, _ := os.ReadFile(filepath.Join(r.dir, "cloud", "cloud.out"))
		m := regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`).FindAllSubmatch(b, -1)
		if len(m) == 0 {
			return "", false
		}
		return string(m[len(m)-1][1]), true
	}, "no code in the cloud's output (DEV MAIL)")
	for _, d := range code {
		sim.OK("key %c", d)
	}
	sim.OK("key enter")
	sim.WaitScreen("Local time", 30*time.Second)
	sim.OK("key enter")
	sim.WaitScreen("Badge or PIN", 30*time.Second)
	st := sim.OK("status")
	if id, _ := st["device_id"].(string); id == "" || id == "none" || st["cloud"] != "offline" {
		t.Fatalf("status after make run onboarding: %v", st)
	}
	if scr := s.WaitFor("Badge or PIN", 30*time.Second); !strings.Contains(scr, "timeclock simulator") {
		t.Errorf("terminal:\n%s", scr)
	}
	s.Kill()
	r.waitCloudStopped(t)
}
