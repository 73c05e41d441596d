package agent

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/hal"
	"timeclock/hal/sim"
	"timeclock/internal/await"
	"timeclock/internal/fakecloud"
	"timeclock/internal/syncbuf"
	"timeclock/onboarding/identity"
	"timeclock/wire"
)

// cloudRig is an onboarded agent on a simulated 20x4 board, on the real
// clock, syncing with a fake cloud (the cloud's embedded broker).
func cloudRig(t *testing.T, fc *fakecloud.Cloud, dir string, tune ...func(*Config)) *rig {
	t.Helper()
	return cloudRigClock(t, fc, dir, clock.Real{}, tune...)
}

// cloudRigClock is cloudRig with the agent's clock (NTP-synced) given.
func cloudRigClock(t *testing.T, fc *fakecloud.Cloud, dir string, clk clock.Clock, tune ...func(*Config)) *rig {
	t.Helper()
	cfg := rosterConfig(t)
	cfg.StateDir = dir
	cfg.CloudURL = "https://127.0.0.1:1" // onboarded: the sync needs only the identity's endpoints
	cfg.SyncBackoffMin, cfg.SyncBackoffMax = Duration(10*time.Millisecond), Duration(200*time.Millisecond)
	cfg.SyncConnectTimeout = Duration(3 * time.Second)
	cfg.FeedbackTime = Duration(100 * time.Millisecond)
	for _, f := range tune {
		f(&cfg)
	}
	b, err := sim.New(&sim.Opts{Cols: 20, Rows: 4})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	sys := &fakeSystem{}
	a, err := New(cfg, Hardware{
		Model: "sim", Keypad: b.Keypad(), Display: b.Display(),
		Badges: []hal.BadgeReader{b.BadgeReader()}, Indicator: b.Indicator(), Network: []string{"eth0"},
	}, Options{
		Clock: clk, NTPSynced: func() bool { return true }, NetworkIface: func() string { return "eth0" },
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BootID: func() string { return "boot-1" }, SinceBoot: func() time.Duration { return time.Hour },
		System: sys,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	r := &rig{t: t, board: b, agent: a, log: logs}
	r.stop = sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		b.Halt()
		if t.Failed() {
			t.Logf("agent log:\n%s", logs.String())
		}
	})
	return r
}

func (r *rig) status() Status { return r.agent.Status() }

// TestCloudPunchesAndIdleScreen: the idle screen says Online; a punch
// reaches the cloud; with the broker down the screen says Offline and
// counts the pending punch, which goes up once the broker is back.
func TestCloudPunchesAndIdleScreen(t *testing.T) {
	fc := fakecloud.New(t)
	dir := t.TempDir()
	fc.Onboard(t, dir, "dev-a1")
	r := cloudRig(t, fc, dir)
	r.waitScreen("Online")
	if st := r.status(); st.Cloud != "online" || st.DeviceID != "dev-a1" {
		t.Fatalf("status cloud=%s device=%s", st.Cloud, st.DeviceID)
	}
	r.badge("10002")
	r.waitScreen("Grace Hopper")
	await.True(t, wait, func() bool { return fc.Stored() == 1 }, "the punch never reached the cloud")
	r.idle()
	r.waitScreen("Online")

	fc.Stop()
	r.waitScreen("Offline")
	if st := r.status(); st.Cloud != "offline" {
		t.Errorf("status cloud=%s with the broker down", st.Cloud)
	}
	r.badge("10003")
	r.waitScreen("Alan Turing")
	r.idle()
	s := r.waitScreen("1 pending")
	if !strings.HasPrefix(s[3], "Offline") {
		t.Errorf("status line %q", s[3])
	}
	fc.Start()
	await.True(t, wait, func() bool { return fc.Stored() == 2 && r.status().Pending == 0 }, "the offline punch never arrived")
	r.screenIs(r.board.Screen()[0], "", "    Badge or PIN", "Online")
}

const wait = 20 * time.Second

// TestCloudTimezoneAndRename: the cloud's timezone and nickname reach the
// clock: the screen shows the new local time, and both are kept in the
// identity across a restart.
func TestCloudTimezoneAndRename(t *testing.T) {
	fc := fakecloud.New(t)
	dir := t.TempDir()
	fc.Onboard(t, dir, "dev-tz")
	r := cloudRig(t, fc, dir)
	r.waitScreen("Online")
	fc.Command("dev-tz", wire.Command{ID: "tz1", Type: wire.CmdTimezone, Timezone: "Asia/Kolkata"}, false)
	if res := fc.WaitResult(t, "tz1"); !res.OK {
		t.Fatalf("timezone: %+v", res)
	}
	// Kolkata is UTC+5:30: the idle clock's minutes move by half an hour.
	want := time.Now().In(mustZone(t, "Asia/Kolkata")).Format("15:04")
	await.True(t, wait, func() bool {
		return strings.HasSuffix(r.board.Screen()[0], want) ||
			strings.HasSuffix(r.board.Screen()[0], time.Now().In(mustZone(t, "Asia/Kolkata")).Format("15:04"))
	}, "the screen does not show Kolkata time: %q", r.board.Screen())
	fc.Command("dev-tz", wire.Command{ID: "nn1", Type: wire.CmdRename, Nickname: "Loading dock"}, false)
	fc.WaitResult(t, "nn1")
	if st := r.status(); st.Nickname != "Loading dock" || st.Timezone != "Asia/Kolkata" {
		t.Errorf("status nickname %q timezone %q", st.Nickname, st.Timezone)
	}
	id, err := identity.NewStore(dir).Load()
	if err != nil || id.Nickname != "Loading dock" || id.Timezone != "Asia/Kolkata" {
		t.Fatalf("identity on disk: %v %v", id, err)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestCloudDisable: the disable comes while punches wait for their acks.
// The clock refuses punches at once, finishes its last transmission, then
// erases its credentials and says "Disabled by administrator"; it still
// does after a restart, until the installer presses F4 and confirms.
func TestCloudDisable(t *testing.T) {
	for _, offline := range []bool{false, true} {
		name := map[bool]string{false: "online", true: "offline"}[offline]
		t.Run(name, func(t *testing.T) {
			fc := fakecloud.New(t)
			dir := t.TempDir()
			dev := "dev-off-" + name
			fc.Onboard(t, dir, dev)
			r := cloudRig(t, fc, dir)
			r.waitScreen("Online")
			if offline {
				// A punch while the cloud is down; the clock stops; the
				// cloud issues the disable (retained) while the clock is
				// away; the clock finds it at its next connection.
				fc.Stop()
				r.waitScreen("Offline")
				r.badge("10002")
				r.waitScreen("Grace Hopper")
				r.idle()
				r.waitScreen("1 pending")
				if err := r.stop(); err != nil {
					t.Fatal(err)
				}
				fc.Start()
				fc.Command(dev, wire.Command{ID: "dis-1", Type: wire.CmdDisable, By: "admin@demo.example"}, true)
				r = cloudRig(t, fc, dir)
			} else {
				// The disable comes while a punch waits for its ack.
				fc.HoldAcks(true)
				r.badge("10002")
				r.waitScreen("Grace Hopper")
				r.idle()
				r.waitScreen("1 pending")
				fc.Command(dev, wire.Command{ID: "dis-1", Type: wire.CmdDisable, By: "admin@demo.example"}, true)
				r.waitScreen("Disabled by")
				r.waitScreen("Sending 1 punches")
				// Punches are refused from the command on.
				r.badge("10003")
				r.lightsAre(false, true, "error")
				fc.HoldAcks(false)
			}
			res := fc.WaitResult(t, "dis-1")
			if !res.OK || res.FinalSeq != 1 {
				t.Fatalf("disable result %+v, want OK with final seq 1", res)
			}
			r.waitScreen("F4: set up again")
			r.screenIs("Disabled by", "administrator", "", "F4: set up again")
			if fc.Stored() != 1 {
				t.Errorf("cloud has %d punches, want the one", fc.Stored())
			}
			st := r.status()
			if st.State != StateDisabled || st.Pending != 0 || st.DeviceID != "" {
				t.Errorf("status %+v", st)
			}
			if _, err := identity.NewStore(dir).Load(); !errors.Is(err, identity.ErrNotOnboarded) {
				t.Errorf("identity after the disable: %v", err)
			}
			if _, err := os.Stat(identity.NewStore(dir).Dir()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("identity directory still there: %v", err)
			}
			r.badge("10002")
			r.lightsAre(false, true, "error")
			if n := len(r.punches()); n != 0 {
				t.Errorf("%d punches pending after the disable", n)
			}

			// A restart shows the disabled screen, not onboarding.
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			r = cloudRig(t, fc, dir)
			r.screenIs("Disabled by", "administrator", "", "F4: set up again")
			if st := r.status(); st.State != StateDisabled {
				t.Errorf("state after restart %v", st.State)
			}
			// F4 asks; Clear backs out; F4 and Enter start onboarding.
			r.keys(hal.KeyF4)
			r.screenIs("Set up again?", "Enter=yes Clr=no")
			r.keys(hal.KeyClear)
			r.waitScreen("F4: set up again")
			r.keys(hal.KeyF4, hal.KeyEnter)
			await.True(t, wait, func() bool { return r.status().State == StateOnboarding }, "not onboarding: %v", r.board.Screen())
			if b := r.agent.stateFile.Load().Disabled(); b != nil {
				t.Errorf("the disable record stayed: %s", b)
			}
		})
	}
}

// TestDisabledRefusesPunches: the cloud's disable command, the one way a
// clock is disabled, refuses punches from the moment it comes: an error
// beep, nothing recorded, the disabled screen stays. (Keys while disabled
// are covered by punchflow's TestNext.)
func TestDisabledRefusesPunches(t *testing.T) {
	fc := fakecloud.New(t)
	dir := t.TempDir()
	fc.Onboard(t, dir, "dev-refuse")
	r := cloudRig(t, fc, dir)
	r.waitScreen("Online")
	fc.Command("dev-refuse", wire.Command{ID: "dis-1", Type: wire.CmdDisable, By: "admin@demo.example"}, true)
	r.waitScreen("Disabled by")
	r.badge("10002")
	r.lightsAre(false, true, "error")
	if s := r.board.Screen(); s[0] != "Disabled by" || s[1] != "administrator" {
		t.Fatalf("screen after a refused punch: %q", s)
	}
	if st := r.agent.Status(); st.State != StateDisabled || len(r.punches()) != 0 {
		t.Fatalf("state %v, %d punches", st.State, len(r.punches()))
	}
	if res := fc.WaitResult(t, "dis-1"); !res.OK {
		t.Fatalf("disable result %+v", res)
	}
}

// TestConsoleSync: the technician's sync connects at once (no waiting out
// the backoff), sends what is pending and reports it.
func TestConsoleSync(t *testing.T) {
	fc := fakecloud.New(t)
	dir := t.TempDir()
	fc.Onboard(t, dir, "dev-cs")
	r := cloudRig(t, fc, dir, func(c *Config) {
		c.SyncBackoffMin, c.SyncBackoffMax = Duration(time.Hour), Duration(2*time.Hour) // only the console brings it back
	})
	r.waitScreen("Online")
	fc.Stop()
	r.waitScreen("Offline")
	r.badge("10002")
	r.waitScreen("Grace Hopper")
	fc.Start()
	var out strings.Builder
	ca := r.agent.Console(&fakeSystem{})
	if err := ca.Sync(context.Background(), &out); err != nil {
		t.Fatalf("sync: %v\n%s", err, out.String())
	}
	for _, want := range []string{"offline; connecting now; 1 punches pending", "connected over tls 127.0.0.1:", "sent 1 punches, 1 acknowledged by the cloud, 0 pending"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sync output lacks %q:\n%s", want, out.String())
		}
	}
	if fc.Stored() != 1 {
		t.Errorf("cloud has %d punches", fc.Stored())
	}
	// Online, nothing pending: it says so at once.
	out.Reset()
	if err := ca.Sync(context.Background(), &out); err != nil || !strings.Contains(out.String(), "sent 0 punches, 0 acknowledged by the cloud, 0 pending") {
		t.Errorf("second sync: %v\n%s", err, out.String())
	}
}

// TestCloudRefusedOnScreen: a clock whose certificate the cloud refuses
// says so on its idle screen, keeps its punches, and comes back when the
// cloud takes it again.
func TestCloudRefusedOnScreen(t *testing.T) {
	fc := fakecloud.New(t)
	dir := t.TempDir()
	fc.Onboard(t, dir, "dev-ref")
	fc.Refuse("dev-ref", true)
	r := cloudRig(t, fc, dir)
	r.waitScreen("Cloud refused")
	r.badge("10002")
	r.waitScreen("Grace Hopper")
	r.idle()
	r.waitScreen("1 pending")
	if st := r.status(); st.Cloud != "offline" {
		t.Errorf("status cloud=%s", st.Cloud)
	}
	fc.Refuse("dev-ref", false)
	await.True(t, wait, func() bool { return fc.Stored() == 1 }, "the punch never went up")
	r.waitScreen("Online")
}

// TestOnboardedWithoutCloudFlag: an onboarded clock started without --cloud
// has one cloud, the one its identity was onboarded to: it connects to it,
// and status, the console's sync and its netcheck all speak of it.
func TestOnboardedWithoutCloudFlag(t *testing.T) {
	fc := fakecloud.New(t)
	dir := t.TempDir()
	id := fc.Onboard(t, dir, "dev-nc")
	r := cloudRig(t, fc, dir, func(c *Config) { c.CloudURL = "" })
	r.waitScreen("Online")
	if st := r.status(); st.Cloud != "online" {
		t.Errorf("status cloud=%s, want online", st.Cloud)
	}
	ca := r.agent.Console(&fakeSystem{})
	var out strings.Builder
	if err := ca.Sync(context.Background(), &out); err != nil {
		t.Errorf("sync: %v\n%s", err, out.String())
	}
	out.Reset()
	err := ca.NetCheck(context.Background(), &out)
	if err != nil {
		t.Errorf("netcheck: %v", err)
	}
	// It checks the ports the identity's cloud gave it: its MQTT port
	// answers, the identity's HTTPS port (this fake's :1) is refused.
	mqttPort := id.MQTT.TLS[strings.LastIndex(id.MQTT.TLS, ":")+1:]
	if !strings.Contains(out.String(), mqttPort+" ok") || !strings.Contains(out.String(), " 1 refused") {
		t.Errorf("netcheck did not check the identity's cloud %s (MQTT %s):\n%s", id.CloudURL, id.MQTT.TLS, out.String())
	}
}
