package sim

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/hal"
)

// startServer serves a fresh board on a socket in a temp dir and stops it
// when the test ends.
func startServer(t *testing.T) (*Board, string) {
	t.Helper()
	b, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sim.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return b, path
}

type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, path string) *client {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

func (c *client) do(line string) map[string]any {
	c.t.Helper()
	c.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.c.Write([]byte(line + "\n")); err != nil {
		c.t.Fatalf("write %q: %v", line, err)
	}
	return c.read()
}

func (c *client) read() map[string]any {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read reply: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(l), &m); err != nil {
		c.t.Fatalf("reply %q is not one JSON object: %v", l, err)
	}
	return m
}

func TestControlKeysReachKeypad(t *testing.T) {
	b, path := startServer(t)
	c := dial(t, path)
	for _, k := range hal.Keys() {
		if r := c.do("key " + k.String()); r["ok"] != true {
			t.Fatalf("key %s: %v", k, r)
		}
		ev, err := b.Keypad().ReadKey(context.Background())
		if err != nil || ev.Key != k {
			t.Fatalf("keypad read %v, %v; want %v", ev.Key, err, k)
		}
	}
}

func TestControlBadgeReachesReader(t *testing.T) {
	b, path := startServer(t)
	c := dial(t, path)
	if r := c.do("badge 0012345"); r["ok"] != true {
		t.Fatalf("badge: %v", r)
	}
	ev, err := b.BadgeReader().ReadBadge(context.Background())
	if err != nil || ev.Number != "0012345" || ev.Format != hal.FormatSim {
		t.Fatalf("badge read %+v, %v", ev, err)
	}
}

// A facility code before a colon reads apart from the card number, as a
// Wiegand reader reads it; without one the badge is as before.
func TestControlBadgeWithFacility(t *testing.T) {
	b, path := startServer(t)
	c := dial(t, path)
	for _, tc := range []struct {
		line     string
		facility uint32
		number   string
		key      string
	}{
		{"badge 12:34567", 12, "34567", "12:34567"},
		{"badge 34567", 0, "34567", "34567"},
		{"badge 4294967295:0042", 4294967295, "0042", "4294967295:0042"},
	} {
		if r := c.do(tc.line); r["ok"] != true {
			t.Fatalf("%s: %v", tc.line, r)
		}
		ev, err := b.BadgeReader().ReadBadge(context.Background())
		if err != nil || ev.Format != hal.FormatSim || ev.Facility != tc.facility || ev.Number != tc.number || ev.Key() != tc.key {
			t.Fatalf("%s: read %+v (key %q), %v; want facility %d number %s key %s", tc.line, ev, ev.Key(), err, tc.facility, tc.number, tc.key)
		}
	}
}

func TestControlScreenAndLeds(t *testing.T) {
	b, path := startServer(t)
	c := dial(t, path)
	b.Display().Show([]string{"Hello", "a line much longer than twenty cells"})
	b.Indicator().SetLED(hal.LEDGreen, true)
	b.Indicator().Beep(context.Background(), hal.PatternOK)

	r := c.do("screen")
	lines, _ := r["lines"].([]any)
	want := []any{"Hello", "a line much longer t", "", ""}
	if r["ok"] != true || len(lines) != 4 {
		t.Fatalf("screen = %v", r)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, lines[i], want[i])
		}
	}
	r = c.do("leds")
	if r["green"] != true || r["red"] != false || r["buzzer"] != "ok" || r["beeps"] != float64(1) {
		t.Fatalf("leds = %v", r)
	}
}

func TestControlStatus(t *testing.T) {
	b, path := startServer(t)
	c := dial(t, path)
	if r := c.do("status"); r["ok"] != false || !strings.Contains(r["error"].(string), "not running") {
		t.Fatalf("status without agent = %v", r)
	}
	b.SetStatus(func() map[string]any { return map[string]any{"state": "idle", "pending": 3} })
	r := c.do("status")
	if r["ok"] != true || r["state"] != "idle" || r["pending"] != float64(3) {
		t.Fatalf("status = %v", r)
	}
}

func TestControlBadCommandsKeepConnection(t *testing.T) {
	_, path := startServer(t)
	c := dial(t, path)
	for _, tc := range []struct{ line, errPart string }{
		{"frobnicate", "unknown command"},
		{"key", "unknown key"},
		{"key 12", "unknown key"},
		{"badge", "missing"},
		{"badge 12a", "not decimal"},
		{"badge 123456789012345678901", "too long"},
		{"badge :5", "facility code missing"},
		{"badge 12:", "number missing"},
		{"badge 1x:5", "facility code \"1x\" is not a number"},
		{"badge -1:5", "is not a number"},
		{"badge 4294967296:5", "too large"},
		{"badge 1:2:3", "not decimal"},
		{"wait", "usage"},
		{"wait x Badge", "usage"},
		{"wait 1 nothing-like-this", "timeout"},
		{"\x00\xff\xfe", "unknown command"},
		{strings.Repeat("x", 10000), "too long"},
	} {
		r := c.do(tc.line)
		if r["ok"] != false || !strings.Contains(r["error"].(string), tc.errPart) {
			t.Errorf("%.20q: reply %v, want error containing %q", tc.line, r, tc.errPart)
		}
	}
	if r := c.do("help"); r["ok"] != true {
		t.Fatalf("connection unusable after bad commands: %v", r)
	}
	// A blank line gets no reply: the next reply answers the next command.
	c.c.Write([]byte("\n"))
	if r := c.do("screen"); r["lines"] == nil {
		t.Fatalf("reply after a blank line = %v", r)
	}
}

func TestControlSeveralClients(t *testing.T) {
	b, path := startServer(t)
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial(t, path)
			for range 10 {
				if r := c.do("key " + string(rune('0'+i))); r["ok"] != true {
					t.Errorf("client %d: %v", i, r)
					return
				}
				if r := c.do("screen"); r["ok"] != true {
					t.Errorf("client %d: %v", i, r)
					return
				}
			}
		}()
	}
	// Drain the keypad while clients press, so the queue never fills.
	got := 0
	for got < n*10 {
		if _, err := b.Keypad().ReadKey(context.Background()); err != nil {
			t.Fatal(err)
		}
		got++
	}
	wg.Wait()
}

func TestControlWaitSeesLaterScreen(t *testing.T) {
	b, path := startServer(t)
	c := dial(t, path)
	c.c.SetDeadline(time.Now().Add(5 * time.Second))
	c.c.Write([]byte("wait 5000 Accepted\n"))
	// The reply must not come before the screen shows the text.
	go b.Display().Show([]string{"IN 08:00", "Accepted"})
	r := c.read()
	if r["ok"] != true {
		t.Fatalf("wait = %v", r)
	}
}

func TestListenRefusesNonSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := writeFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("Listen on a regular file: %v", err)
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	// Simulate a crash: the file stays, nobody listens.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	ln2, err := Listen(path)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln2.Close()
}

func TestQueueFullIsAnError(t *testing.T) {
	b, err := New(&Opts{Cols: 16, Rows: 2, Queue: 2})
	if err != nil {
		t.Fatal(err)
	}
	b.Press(hal.Key1)
	b.Press(hal.Key2)
	if err := b.Press(hal.Key3); err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("third key in a 2-key queue: %v", err)
	}
}

func TestHaltUnblocksReads(t *testing.T) {
	b, _ := New(nil)
	errc := make(chan error, 2)
	go func() { _, err := b.Keypad().ReadKey(context.Background()); errc <- err }()
	go func() { _, err := b.BadgeReader().ReadBadge(context.Background()); errc <- err }()
	b.Halt()
	for range 2 {
		if err := <-errc; err != hal.ErrHalted {
			t.Fatalf("read after Halt: %v", err)
		}
	}
	if err := b.Press(hal.Key1); err != hal.ErrHalted {
		t.Fatalf("Press after Halt: %v", err)
	}
}

// FuzzExec: any control line gets a JSON reply with a boolean ok, and an
// error text when not ok (nil only for a blank line); a "wait" whose time
// overflows waits at most maxWait, never not at all.
func FuzzExec(f *testing.F) {
	for _, s := range []string{"key 5", "KEY Enter", "key f4", "key", "badge 10002", "badge 12:34567", "badge :", "badge",
		"screen", "leds", "status", "help", "wait 10 Badge", "wait -1 x", "wait 99999999999999999 x", "wait 1", "nosuch", " ", "key \x00", "badge 1\t2"} {
		f.Add(s)
	}
	b, err := New(nil)
	if err != nil {
		f.Fatal(err)
	}
	b.Display().Show([]string{"Badge or PIN"})
	canceled, cancel := context.WithCancel(context.Background())
	cancel() // a wait that does not match returns at once
	f.Fuzz(func(t *testing.T, line string) {
		r := b.Exec(canceled, line)
		if r == nil {
			if strings.TrimSpace(line) != "" {
				t.Fatalf("no reply to %q", line)
			}
			return
		}
		ok, isBool := r["ok"].(bool)
		if !isBool {
			t.Fatalf("reply %v has no boolean ok", r)
		}
		if e, _ := r["error"].(string); !ok && e == "" {
			t.Fatalf("a failure without an error: %v", r)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("reply %v does not encode: %v", r, err)
		}
		// Drain what a key or badge queued, so the queues never fill.
		for len(b.keys) > 0 {
			<-b.keys
		}
		for len(b.badges) > 0 {
			<-b.badges
		}
	})
}

func TestWaitTimeIsCapped(t *testing.T) {
	for ms, want := range map[int]time.Duration{0: 0, 10: 10 * time.Millisecond, 60_000: maxWait, math.MaxInt / 1000: maxWait, math.MaxInt: maxWait} {
		if got := waitTime(ms); got != want {
			t.Errorf("waitTime(%d) = %v, want %v", ms, got, want)
		}
	}
}
