package agent

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"timeclock/agent/fingers"
	"timeclock/agent/store"
	"timeclock/clock"
	"timeclock/hal"
	fp "timeclock/hal/fingerprint"
	"timeclock/hal/fingerprint/fpsim"
	"timeclock/hal/sim"
	"timeclock/internal/await"
	"timeclock/internal/syncbuf"
)

// fingerClock is a sim board with the simulated fingerprint module behind
// the real driver on a pty. The module outlives the agents run on it, as
// a real module keeps its templates across restarts.
type fingerClock struct {
	t      *testing.T
	board  *sim.Board
	module *fpsim.Sensor
	dev    *fp.Dev
	clk    *clock.Fake
}

func newFingerClock(t *testing.T) *fingerClock {
	t.Helper()
	clk := clock.NewFake(rigStart)
	b, err := sim.New(&sim.Opts{Cols: 20, Rows: 4, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	pty, err := fpsim.NewPTY(b.FingerSensor(), "")
	if err != nil {
		t.Fatal(err)
	}
	o := fp.DefaultOpts
	o.Poll = 5 * time.Millisecond
	dev, err := fp.New(pty.Link(), fp.SerialOpener(pty.Link(), fp.DefaultBaud), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Halt(); pty.Close(); b.Halt() })
	return &fingerClock{t: t, board: b, module: b.FingerSensor(), dev: dev, clk: clk}
}

// run starts an agent on the clock; the returned function stops it and
// returns its log.
func (c *fingerClock) run(cfg Config) func() string {
	t := c.t
	t.Helper()
	logs := &syncbuf.Buffer{}
	a, err := New(cfg, Hardware{
		Model: "sim", Keypad: c.board.Keypad(), Display: c.board.Display(),
		Badges: []hal.BadgeReader{c.board.BadgeReader()}, Finger: c.dev, Indicator: c.board.Indicator(), Network: []string{"eth0"},
	}, Options{
		Clock: c.clk, ClockSetter: c.clk, NTPSynced: func() bool { return true }, NetworkIface: func() string { return "eth0" },
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BootID: func() string { return "boot-1" }, SinceBoot: func() time.Duration { return time.Hour },
	})
	if err != nil {
		t.Fatal(err)
	}
	c.board.SetStatus(func() map[string]any { return a.Status().Map() }) // as timeclockd does
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stop := func() string {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
		return logs.String()
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("agent log:\n%s", logs.String())
		}
	})
	return stop
}

func (c *fingerClock) waitScreen(want string) {
	c.t.Helper()
	await.True(c.t, 5*time.Second, func() bool {
		return strings.Contains(strings.Join(c.board.Screen(), "\n"), want)
	}, "screen never showed %q (now %q)", want, c.board.Screen())
}

func (c *fingerClock) keys(ks ...hal.Key) {
	c.t.Helper()
	for _, k := range ks {
		if err := c.board.Press(k); err != nil {
			c.t.Fatal(err)
		}
	}
}

func writeRoster(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

const rosterWithGrace = `{"version": 1, "employees": [
  {"id": "S1", "name": "Sam Boss", "badges": ["90001"], "supervisor": true},
  {"id": "E1", "name": "Grace Hopper", "badges": ["10002"]},
  {"id": "E2", "name": "Alan Turing", "badges": ["10003"]}]}`

const rosterWithoutGrace = `{"version": 2, "employees": [
  {"id": "S1", "name": "Sam Boss", "badges": ["90001"], "supervisor": true},
  {"id": "E2", "name": "Alan Turing", "badges": ["10003"]}]}`

// TestFingerDeletedWhenEmployeeLeavesRoster: Grace enrolls; the next
// roster no longer has her; her template is deleted from the module, the
// deletion is recorded for the cloud, and her finger is unknown.
func TestFingerDeletedWhenEmployeeLeavesRoster(t *testing.T) {
	c := newFingerClock(t)
	cfg := DefaultConfig()
	cfg.StateDir = t.TempDir()
	cfg.RosterFile = filepath.Join(t.TempDir(), "roster.json")
	writeRoster(t, cfg.RosterFile, rosterWithGrace)
	stop := c.run(cfg)

	c.waitScreen("Badge or PIN")
	if st := c.board.Status(); st["fingerprint"] != "connected" {
		t.Errorf("status fingerprint=%v, want connected", st["fingerprint"])
	}
	c.keys(hal.KeyHash)
	c.waitScreen("Supervisor")
	c.board.Swipe("90001")
	c.waitScreen("Enroll finger")
	c.board.Swipe("10002")
	c.waitScreen("consents to a")
	c.keys(hal.KeyEnter)
	for _, screen := range []string{"Place finger", "Again 2/3", "Again 3/3"} {
		c.waitScreen(screen)
		c.board.Finger("grace")
	}
	c.waitScreen("Enrolled")
	if got := c.module.Enrolled("grace"); !reflect.DeepEqual(got, []int{0}) {
		t.Fatalf("module holds grace in %v, want slot 0", got)
	}
	c.keys(hal.KeyClear) // a key ends the result screen
	c.waitScreen("Badge or PIN")
	c.board.Finger("grace")
	c.waitScreen("Grace Hopper")

	// Alan picked from the list (Up/Down: Alan Turing, Grace Hopper, Sam
	// Boss by name).
	c.keys(hal.KeyClear)
	c.waitScreen("Badge or PIN")
	c.keys(hal.KeyHash)
	c.waitScreen("Supervisor")
	c.board.Swipe("90001")
	c.waitScreen("Enroll finger")
	c.keys(hal.KeyDown)
	c.waitScreen("> Alan Turing")
	c.keys(hal.KeyUp)
	c.waitScreen("> Sam Boss")
	c.keys(hal.KeyDown)
	c.waitScreen("> Alan Turing")
	c.keys(hal.KeyEnter)
	c.waitScreen("consents to a")
	c.keys(hal.KeyEnter)
	for _, screen := range []string{"Place finger", "Again 2/3", "Again 3/3"} {
		c.waitScreen(screen)
		c.board.Finger("alan")
	}
	c.waitScreen("Enrolled")
	if got := c.module.Enrolled("alan"); !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("module holds alan in %v, want slot 1", got)
	}
	stop()

	writeRoster(t, cfg.RosterFile, rosterWithoutGrace)
	stop = c.run(cfg)
	await.True(t, 5*time.Second, func() bool { return len(c.module.Enrolled("grace")) == 0 }, "grace's template still on the module")
	if got := c.module.Enrolled("alan"); !reflect.DeepEqual(got, []int{1}) {
		t.Errorf("alan's template: %v, want it kept in slot 1", got)
	}
	c.waitScreen("Badge or PIN")
	c.board.Finger("grace")
	c.waitScreen("Unknown finger")
	log := stop()
	if !strings.Contains(log, `msg="fingerprint template deleted" employee=E1 slot=0 reason="removed from the roster"`) {
		t.Errorf("the log does not tell the deletion:\n%s", log)
	}

	st, err := store.Open(cfg.StateDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fk, err := fingers.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	reps, err := fk.Reports(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 3 || reps[0].Kind != fingers.ReportConsent || reps[0].Employee != "E1" || reps[0].Supervisor != "S1" ||
		reps[1].Kind != fingers.ReportConsent || reps[1].Employee != "E2" ||
		reps[2].Kind != fingers.ReportDeleted || reps[2].Employee != "E1" || reps[2].Reason != "removed from the roster" {
		t.Errorf("reports for the cloud: %+v", reps)
	}
	if all := fk.All(); len(all) != 1 || all[0].Employee != "E2" {
		t.Errorf("enrollments left: %+v", all)
	}
	raw, _ := os.ReadFile(filepath.Join(cfg.StateDir, store.FileName))
	if bytes.Contains(raw, []byte("grace")) || strings.Contains(log, "grace") || bytes.Contains(raw, []byte("alan")) || strings.Contains(log, "alan") {
		t.Error("the finger's stand-in template reached the state file or the log")
	}
}

// TestOrphanTemplatesDeleted: a sensor holding templates the state file
// knows nothing of (a factory reset, a recovered state file) is emptied at
// start: no template is kept without a consent on record.
func TestOrphanTemplatesDeleted(t *testing.T) {
	c := newFingerClock(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := c.dev.StartEnroll()
	for n := 1; n <= 3; n++ {
		c.module.Place("left-behind")
		if _, err := e.Scan(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Store(ctx, 7); err != nil {
		t.Fatal(err)
	}
	e.Done()
	cfg := DefaultConfig()
	cfg.StateDir = t.TempDir()
	stop := c.run(cfg)
	await.True(t, 5*time.Second, func() bool { return c.module.Templates() == 0 }, "the orphan template is still on the sensor")
	if log := stop(); !strings.Contains(log, "fingerprint templates without an enrollment on this clock deleted") {
		t.Errorf("the log does not say it:\n%s", log)
	}
}
