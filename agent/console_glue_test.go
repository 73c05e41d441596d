package agent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"timeclock/agent/console"
	"timeclock/clock"
	"timeclock/hal"
	"timeclock/hal/sim"
	"timeclock/internal/await"
	"timeclock/internal/syncbuf"
)

type fakeSystem struct {
	mu      sync.Mutex
	reboots int
}

func (f *fakeSystem) Reboot() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reboots++
	return nil
}

func fields(fs []console.Field) map[string]string {
	m := map[string]string{}
	for _, f := range fs {
		m[f.Key] = f.Value
	}
	return m
}

func TestConsoleAgent(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Timezone = "America/New_York"
	cfg.StateDir = t.TempDir()
	r := newRig(t, cfg, 20, 4)
	r.waitScreen("Badge or PIN")
	sys := &fakeSystem{}
	ca := r.agent.Console(sys)

	st := ca.Status()
	if st[0] != (console.Field{Key: "state", Value: "idle"}) || fields(st)["network"] != "eth0" {
		t.Errorf("status %v", st)
	}
	tm := fields(ca.Time())
	if tm["local"] != "Mon 2026-11-23 03:59:30 EST" || tm["zone"] != "America/New_York" || tm["utc"] != "2026-11-23T08:59:30Z" || tm["synced"] != "true" || tm["set"] != "true" {
		t.Errorf("time %v", tm)
	}
	cf := fields(ca.Config())
	if cf["timezone"] != "America/New_York" || cf["idle_timeout"] != "10s" || cf["state_dir"] == "" || cf["version"] != "dev" {
		t.Errorf("config %v", cf)
	}

	ctx := context.Background()
	if n, err := ca.PendingPunches(); n != 0 || err != nil {
		t.Errorf("pending %d %v", n, err)
	}
	if ls, err := ca.Punches(ctx, console.Pending, 5); len(ls) != 0 || err != nil {
		t.Errorf("punches pending on a fresh clock: %q %v", ls, err)
	}
	if err := ca.Reboot(ctx); err != nil || sys.reboots != 1 {
		t.Errorf("reboot: %v, %d", err, sys.reboots)
	}
	if err := ca.FactoryReset(ctx); err != nil || sys.reboots != 2 {
		t.Errorf("factory reset: %v, %d reboots", err, sys.reboots)
	}
	if _, err := os.Stat(filepath.Join(r.agent.cfg.StateDir, factoryResetMarker)); err != nil {
		t.Errorf("no factory reset marker: %v", err)
	}
}

// config show never prints a password inside the cloud URL. The agent is
// not run: with a cloud and no identity it would start onboarding.
func TestConsoleConfigHidesURLPassword(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CloudURL = "https://tech:hunter2@cloud.example"
	cfg.StateDir = t.TempDir()
	b, _ := sim.New(nil)
	a, err := New(cfg, Hardware{Model: "sim", Keypad: b.Keypad(), Display: b.Display(), Indicator: b.Indicator()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cf := fields(a.Console(&fakeSystem{}).Config())
	if strings.Contains(cf["cloud_url"], "hunter2") || !strings.Contains(cf["cloud_url"], "cloud.example") {
		t.Errorf("cloud_url shown as %q", cf["cloud_url"])
	}
}

func TestStandaloneSyncAndOnboard(t *testing.T) {
	r := newRig(t, DefaultConfig(), 20, 4)
	ca := r.agent.Console(&fakeSystem{})
	if err := ca.Sync(context.Background(), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "no cloud configured") {
		t.Errorf("sync standalone: %v", err)
	}
	if err := ca.Onboard(context.Background()); err == nil || !strings.Contains(err.Error(), "no cloud configured") {
		t.Errorf("onboard standalone: %v", err)
	}
}

// While the console borrows the devices, the punch flow in Run sees no key
// presses; afterwards it does again.
func TestTappedHardwareDivertsTheRunLoop(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 23, 8, 59, 30, 0, time.UTC))
	b, _ := sim.New(&sim.Opts{Cols: 20, Rows: 4, Now: clk.Now})
	defer b.Halt()
	var logs syncbuf.Buffer
	tap := console.NewTap()
	hw := Hardware{Model: "sim", Keypad: b.Keypad(), Display: b.Display(), Badges: []hal.BadgeReader{b.BadgeReader()}, Indicator: b.Indicator()}.Tapped(tap)
	cfg := DefaultConfig()
	cfg.StateDir = t.TempDir()
	a, err := New(cfg, hw, Options{Clock: clk, NTPSynced: func() bool { return true }, NetworkIface: func() string { return "eth0" },
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	await.True(t, 5*time.Second, func() bool { return strings.Contains(strings.Join(b.Screen(), "\n"), "Badge or PIN") }, "no idle screen")

	lent, release, err := tap.Borrow()
	if err != nil {
		t.Fatal(err)
	}
	b.Press(hal.Key3)
	select {
	case ev := <-lent.Keys:
		if ev.Key != hal.Key3 {
			t.Fatalf("lent key %v", ev.Key)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the borrower never got the key")
	}
	b.Swipe("10001")
	select {
	case <-lent.Badges:
	case <-time.After(5 * time.Second):
		t.Fatal("the borrower never got the badge")
	}
	release()
	// After release the punch flow takes keys again: one masked PIN digit.
	// Had the lent key 3 reached it too, the mask would show two.
	b.Press(hal.Key4)
	// The state changes before the screen is drawn: wait for the screen.
	await.True(t, 5*time.Second, func() bool { return strings.Contains(strings.Join(b.Screen(), "\n"), "*") }, "the agent never saw the key after release")
	if scr := strings.Join(b.Screen(), "\n"); strings.Count(scr, "*") != 1 {
		t.Fatalf("PIN entry shows %d digits, want 1 (lent input leaked?):\n%s", strings.Count(scr, "*"), scr)
	}
	if n := a.Status().Pending; n != 0 {
		t.Fatalf("the lent badge was punched: %d pending", n)
	}
}

// techConsole is the technician's serial console on the rig's agent, as
// cmd/timeclockd runs it, over an in-memory serial port; it logs in with
// the passcode from the config file.
type techConsole struct {
	t   *testing.T
	in  *io.PipeWriter
	out syncbuf.Buffer
	at  int // read cursor for expect
}

// pipePort is the clock's end of the serial line.
type pipePort struct {
	r *io.PipeReader
	w io.Writer
}

func (p pipePort) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p pipePort) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p pipePort) Close() error                { return p.r.CloseWithError(errors.New("port closed")) }

func attachConsole(t *testing.T, r *rig) *techConsole {
	t.Helper()
	hash, err := console.HashPasscodeCost("2468", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := console.DefaultConfig()
	cfg.PasscodeHash = hash
	tc := &techConsole{t: t}
	pr, pw := io.Pipe()
	tc.in = pw
	opened := false
	con, err := console.New(console.Options{
		Config: cfg, Port: "test", Agent: r.agent.Console(&fakeSystem{}), Clock: r.clk,
		Logger: r.agent.log,
		Open: func(context.Context) (io.ReadWriteCloser, error) {
			if opened {
				return nil, errors.New("no such device") // one cable per test
			}
			opened = true
			return pipePort{r: pr, w: &tc.out}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- con.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("console: %v", err)
		}
	})
	tc.expect("passcode: ")
	tc.typ("2468\r")
	tc.expect("Logged in.")
	tc.expect("timeclock> ")
	return tc
}

func (tc *techConsole) typ(s string) {
	tc.t.Helper()
	if _, err := tc.in.Write([]byte(s)); err != nil {
		tc.t.Fatalf("typing %q: %v", s, err)
	}
}

// expect waits until the output after the cursor contains text, moves the
// cursor past it and returns the output up to there.
func (tc *techConsole) expect(text string) string {
	tc.t.Helper()
	var got string
	await.True(tc.t, 5*time.Second, func() bool {
		got = tc.out.String()[tc.at:]
		return strings.Contains(got, text)
	}, "console never wrote %q; it wrote:\n%s", text, tc.out.String()[tc.at:])
	end := strings.Index(got, text) + len(text)
	tc.at += end
	return strings.ReplaceAll(got[:end], "\r\n", "\n")
}

// run types a command line and returns its output up to the next prompt.
func (tc *techConsole) run(line string) string {
	tc.t.Helper()
	tc.typ(line + "\r")
	return tc.expect("timeclock> ")
}
