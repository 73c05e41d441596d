package console

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"

	"timeclock/internal/await"
)

// flood sends n random bytes in terminal-sized chunks.
func flood(r *rig, p *fakePort, seed uint64, n int) {
	rng := rand.New(rand.NewPCG(seed, seed))
	buf := make([]byte, 4096)
	for sent := 0; sent < n; sent += len(buf) {
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		r.typ(p, string(buf))
	}
}

// After a flood of random bytes while logged in, the console still answers.
func TestBinaryFloodLoggedIn(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.login(p)
	flood(r, p, 1, 1<<20)
	// Whatever the flood left half-typed (an escape sequence, a question
	// asked by a command it started) is cancelled by Ctrl-C.
	r.typ(p, "\x03\x03")
	mark := len(p.out())
	r.typ(p, "\x15status\r")
	p.at = mark
	r.expect(p, "state=idle")
	if n, s, o := r.agent.counts(); n+s+o != 0 {
		t.Fatalf("random bytes rebooted (%d), reset (%d) or onboarded (%d) the clock", n, s, o)
	}
}

// A flood before login is at most a few wrong passcodes: it locks the
// console, and the technician gets in once the lock ends.
func TestBinaryFloodAtLogin(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.expect(p, "passcode: ")
	flood(r, p, 2, 256<<10)
	// Ctrl-C drops the flood's unfinished line. The second write returns
	// only once the session has taken the first, so the whole flood has
	// been handled before the clock moves.
	r.typ(p, "\x03")
	r.typ(p, "\x03")
	r.expect(p, "The console is locked after 5 wrong passcodes")
	r.clk.Advance(r.con.cfg.LockoutBase)
	r.expect(p, "The console is unlocked.")
	r.login(p)
	if got := r.run(p, "status"); !strings.Contains(got, "state=idle") {
		t.Fatalf("status after the flood:\n%s", got)
	}
}

func TestVeryLongLine(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.login(p)
	r.typ(p, strings.Repeat("x", 100_000)+"\r")
	out := r.expect(p, "timeclock> ")
	if !strings.Contains(out, `unknown command "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."`) || strings.Count(out, "\a") != 1 || len(out) > 2000 {
		t.Fatalf("long line gave %d bytes:\n%.300s", len(out), out)
	}
	if got := r.run(p, "status"); !strings.Contains(got, "state=idle") {
		t.Fatalf("status after a long line:\n%s", got)
	}
}

// Output longer than the port's queue waits for room and arrives whole and
// in order.
func TestLongOutputArrivesWhole(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.login(p)
	for i := range 150 {
		r.ring.Add(fmt.Sprintf("%s line %03d", strings.Repeat("a", 400), i))
	}
	out := r.run(p, "log 150")
	last := -1
	for _, want := range []string{"line 000", "line 075", "line 149"} {
		i := strings.Index(out, want)
		if i <= last {
			t.Fatalf("log 150: %q missing or out of order (%d bytes)", want, len(out))
		}
		last = i
	}
}

// A terminal that stops reading (writes time out) loses output, not the
// session: input is still handled and output resumes when it reads again.
func TestStalledTerminal(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.login(p)
	p.stalled.Store(true)
	for range 3 {
		r.typ(p, "help\r")
	}
	await.True(t, timeout, func() bool { return strings.Contains(r.logBuf.String(), "console output stalled") }, "stall not logged")
	p.stalled.Store(false)
	mark := len(p.out())
	r.typ(p, "\x03time\r")
	p.at = mark
	r.expect(p, "zone=America/New_York")
	if n := strings.Count(r.logBuf.String(), "console output stalled"); n != 1 {
		t.Errorf("stall logged %d times", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"status", "help punches", "punches recent 5", "PUNCHES Pending", "hw keypad extra",
		"factory-reset force", "factory-reset now", "", "   ", "log -1", "\x00\xff", "config show"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, args, err := parse(line)
		if err != nil {
			if c != nil || err.Error() == "" || len(err.Error()) > 1000 {
				t.Fatalf("parse(%q) = %v, %q", line, c, err)
			}
			return
		}
		if len(args) < c.minArgs || len(args) > c.maxArgs {
			t.Fatalf("parse(%q) let %d args through to %s", line, len(args), c.name)
		}
		if c.subs != nil && len(args) > 0 {
			ok := false
			for _, s := range c.subs {
				ok = ok || s == args[0]
			}
			if !ok {
				t.Fatalf("parse(%q) let sub %q through", line, args[0])
			}
		}
		for _, a := range args {
			if a == "" || strings.IndexFunc(a, unicode.IsSpace) >= 0 {
				t.Fatalf("parse(%q) gave arg %q", line, a)
			}
		}
	})
}
