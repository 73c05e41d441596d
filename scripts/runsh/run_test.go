// Package runsh tests scripts/run.sh (make run): the dev cloud and the sim
// clock started together in tmux, the demo company ID printed, the clock
// pointed at the cloud, and the cloud stopped on every way out.
package runsh

import (
	"crypto/tls"
	"fmt"
	"net"
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

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type run struct {
	dir   string
	https int
	env   []string
}

func setup(t *testing.T) run {
	clockBin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	cloudBin := daemontest.Build(t, "timeclock/cmd/timeclock-cloud")
	if filepath.Dir(clockBin) != filepath.Dir(cloudBin) {
		t.Fatal("daemontest built the commands into different directories")
	}
	r := run{dir: t.TempDir(), https: freePort(t)}
	r.env = []string{"RUN_DIR=" + r.dir, "BIN_DIR=" + filepath.Dir(clockBin),
		fmt.Sprintf("CLOUD_HTTPS_PORT=%d", r.https), fmt.Sprintf("CLOUD_HTTP_PORT=%d", freePort(t)),
		fmt.Sprintf("CLOUD_MQTT_PORT=%d", freePort(t)), fmt.Sprintf("CLOUD_MQTT_WS_PORT=%d", freePort(t))}
	return r
}

func repo(t *testing.T) string {
	d, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// cloudUp reports whether the dev cloud answers TLS on its HTTPS port.
func (r run) cloudUp() bool {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", r.https),
		&tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// checkRunning checks the clock is onboarding with the cloud (a new clock
// starts at the company ID), and the cloud printed its demo company ID.
func (r run) checkRunning(t *testing.T) {
	sim := daemontest.DialSim(t, filepath.Join(r.dir, "clock", "sim.sock"), 60*time.Second)
	sim.WaitScreen("Company ID", 30*time.Second)
	if st := sim.OK("status"); st["cloud"] == "standalone" || st["cloud"] == nil {
		t.Errorf("clock status %v: make run did not give it the cloud", st)
	}
	out, _ := os.ReadFile(filepath.Join(r.dir, "cloud", "cloud.out"))
	if !regexp.MustCompile(`(?m)^demo company ID: \d{6}$`).Match(out) {
		t.Errorf("cloud output lacks the demo company ID:\n%s", out)
	}
	if !r.cloudUp() {
		t.Error("the cloud is not serving HTTPS")
	}
}

func (r run) waitCloudStopped(t *testing.T) {
	await.True(t, 30*time.Second, func() bool { return !r.cloudUp() }, "the cloud still runs after make run ended")
	out, _ := os.ReadFile(filepath.Join(r.dir, "cloud", "cloud.out"))
	if !strings.Contains(string(out), "serving -> stopping") {
		t.Errorf("the cloud did not stop cleanly:\n%s", out)
	}
}

// Started from inside tmux: the cloud's output opens in a pane below the
// clock; Ctrl-C in the clock ends both.
func TestRunInsideTmux(t *testing.T) {
	r := setup(t)
	s := tmuxtest.Start(t, r.env, "cd "+repo(t)+" && scripts/run.sh")
	r.checkRunning(t)
	scr := s.WaitFor("Company ID", 30*time.Second)
	if !strings.Contains(scr, "timeclock simulator") {
		t.Errorf("the clock face is not in the active pane:\n%s", scr)
	}
	s.Keys("C-c")
	r.waitCloudStopped(t)
}

// Started outside tmux: a private tmux server shows the clock above and the
// cloud's output (with the demo company ID) below.
func TestRunOutsideTmux(t *testing.T) {
	r := setup(t)
	s := tmuxtest.Start(t, r.env, "cd "+repo(t)+" && env -u TMUX -u TMUX_PANE scripts/run.sh")
	r.checkRunning(t)
	// The status line appears once the private session is attached; the
	// cloud's pane fills in its own time after that (under load, seconds
	// later): wait for the whole screen, not one look at it.
	want := []string{"make run: clock above", "Company ID", "demo company ID:", "timeclock simulator"}
	await.True(t, 30*time.Second, func() bool {
		scr := s.Screen()
		for _, w := range want {
			if !strings.Contains(scr, w) {
				return false
			}
		}
		return true
	}, "the screen never showed all of %q:\n%s", want, lazy(s.Screen))
	s.Keys("C-c")
	r.waitCloudStopped(t)
	await.True(t, 30*time.Second, s.Dead, "run.sh did not end after the clock quit")
	if _, err := os.Stat(filepath.Join(r.dir, "tmux.sock")); err == nil {
		t.Error("the private tmux socket was left behind")
	}
}

// lazy is text made when a failure message is printed (after the wait).
type lazy func() string

func (l lazy) String() string { return l() }

// Closing the terminal (SIGHUP) stops the cloud too.
func TestRunStopsCloudWhenTerminalCloses(t *testing.T) {
	r := setup(t)
	s := tmuxtest.Start(t, r.env, "cd "+repo(t)+" && NO_TMUX=1 scripts/run.sh")
	r.checkRunning(t)
	s.Kill()
	r.waitCloudStopped(t)
}

// A second make run keeps the cloud's earlier output (a DEV MAIL with a
// code the resumed clock still waits for) and marks the restart, naming the
// mail outbox, in the output the cloud's pane shows.
func TestRunKeepsCloudOutputOnRestart(t *testing.T) {
	r := setup(t)
	s := tmuxtest.Start(t, r.env, "cd "+repo(t)+" && NO_TMUX=1 scripts/run.sh")
	r.checkRunning(t)
	s.Keys("C-c")
	r.waitCloudStopped(t)
	await.True(t, 30*time.Second, s.Dead, "run.sh did not end after the clock quit")
	first, _ := os.ReadFile(filepath.Join(r.dir, "cloud", "cloud.out"))

	s = tmuxtest.Start(t, r.env, "cd "+repo(t)+" && NO_TMUX=1 scripts/run.sh")
	r.checkRunning(t)
	outbox := filepath.Join(r.dir, "cloud", "outbox")
	out, _ := os.ReadFile(filepath.Join(r.dir, "cloud", "cloud.out"))
	if !strings.HasPrefix(string(out), string(first)) {
		t.Errorf("the first run's output is gone:\n%s", out)
	}
	if n := regexp.MustCompile(`(?m)^ready$`).FindAll(out, -1); len(n) != 2 || !strings.Contains(string(out), "make run restarted the cloud") {
		t.Errorf("want both runs' output with the restart marked:\n%s", out)
	}
	// The restart mark (in the cloud's pane) names where the mail is.
	if !strings.Contains(string(out), "earlier mail is above and in "+outbox) {
		t.Errorf("the restart mark does not name the outbox %s:\n%s", outbox, out)
	}
	s.Keys("C-c")
	r.waitCloudStopped(t)
}
