package agent

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/hal"
	"timeclock/hal/sim"
	"timeclock/internal/await"
	"timeclock/internal/syncbuf"
	"timeclock/onboarding/netcheck"
)

// rig is an agent on a simulated board with a fake clock.
type rig struct {
	t     *testing.T
	board *sim.Board
	clk   *clock.Fake
	agent *Agent
	log   *syncbuf.Buffer
	stop  func() error
	// boot is when CLOCK_BOOTTIME started, as the fake clock tells it.
	boot *atomic.Pointer[time.Time]
}

var rigStart = time.Date(2026, 11, 23, 8, 59, 30, 0, time.UTC)

// newRig runs an agent in a fresh state directory (cfg.StateDir is
// replaced) and stops it when the test ends.
func newRig(t *testing.T, cfg Config, cols, rows int) *rig {
	t.Helper()
	cfg.StateDir = t.TempDir()
	return startRig(t, cfg, cols, rows, clock.NewFake(rigStart))
}

// startRig runs an agent on cfg as given, with clk.
func startRig(t *testing.T, cfg Config, cols, rows int, clk *clock.Fake) *rig {
	t.Helper()
	return startRigDisplay(t, cfg, cols, rows, clk, nil)
}

// startRigDisplay is startRig with the sim display wrapped by wrap (a test
// double around it), when wrap is not nil.
func startRigDisplay(t *testing.T, cfg Config, cols, rows int, clk *clock.Fake, wrap func(hal.Display) hal.Display) *rig {
	t.Helper()
	b, err := sim.New(&sim.Opts{Cols: cols, Rows: rows, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	disp := b.Display()
	if wrap != nil {
		disp = wrap(disp)
	}
	logs := &syncbuf.Buffer{}
	boot := new(atomic.Pointer[time.Time])
	bootAt := clk.Now().Add(-time.Hour) // CLOCK_BOOTTIME: an hour since boot
	boot.Store(&bootAt)
	a, err := New(cfg, Hardware{
		Model: "sim", Keypad: b.Keypad(), Display: disp,
		Badges: []hal.BadgeReader{b.BadgeReader()}, Indicator: b.Indicator(), Network: []string{"eth0"},
	}, Options{
		Clock: clk, ClockSetter: clk, NTPSynced: func() bool { return ntpSynced(cfg) }, NetworkIface: func() string { return "eth0" },
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BootID:    func() string { return "boot-1" },
		SinceBoot: func() time.Duration { return clk.Now().Sub(*boot.Load()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	r := &rig{t: t, board: b, clk: clk, agent: a, log: logs, boot: boot}
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

// waitScreen's deadline is the package's failure cut-off (wait), not a
// speed check: under qemu-user beside another test run, a broker going
// away took the clock 6 s to see (speed is make bench's).
func (r *rig) waitScreen(want string) []string {
	r.t.Helper()
	return await.Value(r.t, wait, func() ([]string, bool) {
		s := r.board.Screen()
		return s, strings.Contains(strings.Join(s, "\n"), want)
	}, "screen never showed %q (now %q)", want, r.board.Screen())
}

func TestIdleScreenShowsTimeAndPrompt(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Timezone = "America/New_York"
	r := newRig(t, cfg, 20, 4)
	s := r.waitScreen("Badge or PIN")
	if s[0] != "Mon 23 Nov     03:59" {
		t.Errorf("line 1 = %q, want the local date and time", s[0])
	}
	if !strings.HasPrefix(s[3], "Not connected") {
		t.Errorf("line 4 = %q, want the standalone mark", s[3])
	}
	// The minute turns: the screen follows without any input.
	await.True(t, 5*time.Second, func() bool { return r.clk.Timers() > 0 }, "agent never armed its minute timer")
	r.clk.Advance(30 * time.Second)
	r.waitScreen("04:00")
	if err := r.stop(); err != nil {
		t.Fatalf("Run returned %v on shutdown", err)
	}
}

func TestIdleScreenSmallDisplay(t *testing.T) {
	r := newRig(t, DefaultConfig(), 16, 2)
	s := r.waitScreen("Badge or PIN")
	if s[0] != "Mon 23 Nov 08:59" || len([]rune(s[0])) > 16 {
		t.Errorf("line 1 = %q", s[0])
	}
}

func TestStatusKeys(t *testing.T) {
	r := newRig(t, DefaultConfig(), 20, 4)
	r.waitScreen("Badge or PIN")
	m := r.agent.Status().Map()
	for k, want := range map[string]any{"state": "idle", "pending": 0, "synced": true, "network": "eth0", "cloud": "standalone", "model": "sim"} {
		if m[k] != want {
			t.Errorf("status %s = %v, want %v", k, m[k], want)
		}
	}
	var keys []string
	for _, f := range r.agent.Status().Fields() {
		keys = append(keys, f.Key)
	}
	if strings.Join(keys[:4], ",") != "state,pending,synced,network" {
		t.Errorf("status keys start %v", keys[:4])
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no state dir", func(c *Config) { c.StateDir = "" }, "state_dir"},
		{"http cloud", func(c *Config) { c.CloudURL = "http://x" }, "https"},
		{"hostless cloud", func(c *Config) { c.CloudURL = "https://" }, "no host"},
		{"bad zone", func(c *Config) { c.Timezone = "Mars/Olympus" }, "timezone"},
		{"short idle", func(c *Config) { c.IdleTimeout = Duration(time.Millisecond) }, "idle_timeout"},
		{"negative window", func(c *Config) { c.DuplicateWindow = Duration(-time.Second) }, "duplicate_window"},
		{"tiny capacity", func(c *Config) { c.Capacity = 5 }, "capacity"},
		{"no retention", func(c *Config) { c.RetentionDays = 0 }, "retention_days"},
		{"memory limit too small", func(c *Config) { c.MemoryLimitMiB = 4 }, "memory_limit_mib"},
		{"memory limit negative", func(c *Config) { c.MemoryLimitMiB = -1 }, "memory_limit_mib"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want mention of %q", err, tc.want)
			}
		})
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}

// parseDefaultRoute reads /proc/net/route text: the default route with the
// lowest metric wins, as the kernel's rule would.
func parseDefaultRoute(r io.Reader) string {
	var b strings.Builder
	io.Copy(&b, r)
	if rs := netcheck.ParseRoutes(b.String()); len(rs) > 0 {
		return rs[0].Iface
	}
	return ""
}

func TestParseDefaultRoute(t *testing.T) {
	const table = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
wlan0	00000000	0101A8C0	0003	0	0	600	00000000	0	0	0
eth0	00000000	0100000A	0003	0	0	100	00000000	0	0	0
eth0	0000000A	00000000	0001	0	0	100	00FFFFFF	0	0	0
`
	if got := parseDefaultRoute(strings.NewReader(table)); got != "eth0" {
		t.Fatalf("default route iface = %q, want eth0 (lower metric)", got)
	}
	if got := parseDefaultRoute(strings.NewReader("Iface\n")); got != "" {
		t.Fatalf("no routes gave %q", got)
	}
}

// ntpSynced is the rig's kernel NTP state: synced, unless the config's
// version says "no-ntp" (a standalone clock set by hand).
func ntpSynced(cfg Config) bool { return cfg.Version != "no-ntp" }
