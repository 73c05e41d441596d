package console

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"timeclock/internal/await"
)

func TestLoginStatusHelpUnknown(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.expect(p, "timeclock serial console (model sim, version test)")
	r.expect(p, "passcode: ")
	// Before login nothing runs: a command is just a wrong passcode.
	r.typ(p, "status\r")
	r.expect(p, "Wrong passcode.")
	r.expect(p, "passcode: ")
	r.typ(p, techPass+"\r")
	out := r.expect(p, "timeclock> ")
	if strings.Contains(p.out(), techPass) || strings.Contains(p.out(), "state=") {
		t.Fatalf("passcode echoed or status shown before login:\n%s", p.out())
	}
	if !strings.Contains(out, "Logged in.") {
		t.Fatalf("login output %q", out)
	}

	st := r.run(p, "status")
	for _, want := range []string{"status\n", "state=idle\n", "pending=0\n", "synced=true\n", "network=eth0\n"} {
		if !strings.Contains(st, want) {
			t.Errorf("status output lacks %q:\n%s", want, st)
		}
	}
	help := r.run(p, "help")
	for _, c := range commands {
		if !strings.Contains(help, "  "+c.name) {
			t.Errorf("help lacks %s:\n%s", c.name, help)
		}
	}
	bad := r.run(p, "frobnicate now")
	if !strings.Contains(bad, "unknown command \"frobnicate\" (type help for what each does); commands:\n  help status time netcheck punches sync log config hw reboot factory-reset\n  onboard storage update logout\n") {
		t.Errorf("unknown command reply:\n%s", bad)
	}
	if got := r.run(p, "punches pending"); !strings.Contains(got, "punches: the punch journal is not in this build yet") {
		t.Errorf("punches without a journal:\n%s", got)
	}
	if got := r.run(p, "punches sideways"); !strings.Contains(got, "usage: punches pending|recent [N]") {
		t.Errorf("bad punches argument:\n%s", got)
	}
	if got := r.run(p, "log 0"); !strings.Contains(got, "N must be a number from 1 to 200") {
		t.Errorf("log 0:\n%s", got)
	}
	if got := r.run(p, "HELP factory-reset"); !strings.Contains(got, "Refuses while punches are pending") {
		t.Errorf("help factory-reset:\n%s", got)
	}
	r.typ(p, "logout\r")
	r.expect(p, "Logged out.")
	r.expect(p, "passcode: ")
	if got := r.ring.Tail(0); !strings.Contains(strings.Join(got, "\n"), `msg="console logout" port=test reason=logout`) {
		t.Errorf("no logout log line:\n%s", strings.Join(got, "\n"))
	}
}

func TestLockoutLocksAndGrows(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.expect(p, "passcode: ")
	for i := 1; i <= 4; i++ {
		r.typ(p, "1111\r")
		r.expect(p, "Wrong passcode.")
		out := r.expect(p, "passcode: ")
		if strings.Contains(out, "locked") {
			t.Fatalf("locked after %d tries", i)
		}
	}
	r.typ(p, "1111\r")
	r.expect(p, "The console is locked after 5 wrong passcodes; try again in 30s.")
	// The right passcode is refused while locked.
	r.typ(p, techPass+"\r")
	r.expect(p, "try again in 30s.")
	r.clk.Advance(10 * time.Second)
	r.typ(p, techPass+"\r")
	r.expect(p, "try again in 20s.")
	r.clk.Advance(20 * time.Second)
	r.expect(p, "The console is unlocked.")
	r.expect(p, "passcode: ")
	// One more wrong passcode locks it again, for twice as long.
	r.typ(p, "1111\r")
	r.expect(p, "locked after 6 wrong passcodes; try again in 1m.")
	r.clk.Advance(time.Minute)
	r.expect(p, "unlocked")
	r.login(p)
	// A right passcode starts the count again.
	r.typ(p, "logout\r")
	for range 4 {
		r.expect(p, "passcode: ")
		r.typ(p, "1111\r")
		r.expect(p, "Wrong passcode.")
	}
	out := r.expect(p, "passcode: ")
	if strings.Contains(out, "locked") {
		t.Fatal("the count did not start again after a login")
	}
	r.typ(p, techPass+"\r")
	r.expect(p, "Logged in.")
	logs := r.logBuf.String()
	if !strings.Contains(logs, `msg="console login failed" port=test failures=5 locked_for=30s`) {
		t.Errorf("no lockout log line:\n%s", logs)
	}
}

func TestLockoutDurations(t *testing.T) {
	l := lockout{base: 30 * time.Second, max: 15 * time.Minute}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	want := []time.Duration{0, 0, 0, 0, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	for i, w := range want {
		if got := l.fail(now); got != w {
			t.Fatalf("failure %d locks for %v, want %v", i+1, got, w)
		}
		if got := l.remaining(now); got != w {
			t.Fatalf("failure %d: remaining %v, want %v", i+1, got, w)
		}
		if got := l.remaining(now.Add(w)); got != 0 {
			t.Fatalf("failure %d: still locked at its end (%v)", i+1, got)
		}
	}
	l.succeed()
	if got := l.fail(now); got != 0 {
		t.Fatalf("after a success the first failure locks for %v", got)
	}
}

func TestIdleLogout(t *testing.T) {
	r := newRig(t, func(o *Options) { o.Config.IdleLogout = 5 * time.Minute })
	p := r.port(1)
	r.login(p)
	// Typing keeps the session alive.
	r.clk.Advance(4 * time.Minute)
	r.run(p, "")
	r.clk.Advance(4 * time.Minute)
	if got := r.run(p, "status"); !strings.Contains(got, "state=idle") {
		t.Fatalf("session ended early:\n%s", got)
	}
	r.clk.Advance(5 * time.Minute)
	r.expect(p, "No input for 5m: logged out.")
	r.expect(p, "passcode: ")
	r.typ(p, "status\r")
	r.expect(p, "Wrong passcode.")
}

func TestIdleLogoutStopsARunningCheck(t *testing.T) {
	r := newRig(t, nil)
	r.agent.netcheckOn = make(chan struct{})
	p := r.port(1)
	r.login(p)
	r.typ(p, "netcheck\r")
	r.expect(p, "link eth0: up")
	r.clk.Advance(5 * time.Minute)
	r.expect(p, "network check stopped")
	r.expect(p, "No input for 5m: logged out.")
	r.expect(p, "passcode: ")
}

func TestCtrlCStopsACommand(t *testing.T) {
	r := newRig(t, nil)
	r.agent.netcheckOn = make(chan struct{})
	p := r.port(1)
	r.login(p)
	r.typ(p, "netcheck\r")
	r.expect(p, "link eth0: up")
	r.typ(p, "typed ahead\x03status\r")
	out := r.expect(p, "timeclock> ")
	if !strings.Contains(out, "^C") || !strings.Contains(out, "network check stopped") || strings.Contains(out, "netcheck:") {
		t.Fatalf("Ctrl-C output:\n%s", out)
	}
	// What was typed after Ctrl-C runs; what was typed before it is gone.
	got := strings.ReplaceAll(r.expect(p, "timeclock> "), "\r\n", "\n")
	if !strings.Contains(got, "state=idle") || strings.Contains(p.out(), "typed ahead") {
		t.Fatalf("after Ctrl-C:\n%s", got)
	}
}

func TestLineEditingOnTheConsole(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.login(p)
	if got := r.run(p, "statux\x7fs"); !strings.Contains(got, "state=idle") {
		t.Fatalf("backspace:\n%s", got)
	}
	r.typ(p, "\x1b[A\r")
	r.expect(p, "state=idle")
	r.expect(p, "timeclock> ")
	r.typ(p, "reboot\x03")
	r.expect(p, "^C")
	r.expect(p, "timeclock> ")
	r.typ(p, "garbage\x15time\r")
	r.expect(p, "zone=America/New_York")
	r.expect(p, "timeclock> ")
	if n, _, _ := r.agent.counts(); n != 0 {
		t.Fatal("a cancelled line ran")
	}
	// CR LF from a terminal that sends both is one line, not two.
	r.typ(p, "time\r\n")
	out := r.expect(p, "timeclock> ")
	r.typ(p, "\r")
	r.expect(p, "timeclock> ")
	if strings.Count(out, "zone=") != 1 {
		t.Fatalf("CR LF:\n%s", out)
	}
}

func TestNoPasscodeKeepsConsoleClosed(t *testing.T) {
	r := newRig(t, func(o *Options) { o.Config.PasscodeHash = "" })
	p := r.port(1)
	r.expect(p, "No technician passcode is set on this clock, so the console stays closed.")
	r.typ(p, "status\r")
	r.expect(p, "No technician passcode is set")
	r.typ(p, "\r")
	r.expect(p, "Press Enter to check again.")
	if strings.Contains(p.out(), "state=") || strings.Contains(p.out(), "status") {
		t.Fatalf("closed console echoed or ran a command:\n%s", p.out())
	}
	// The cloud sets a passcode (activation): the next Enter asks for it.
	r.agent.mu.Lock()
	r.agent.hash = testHash(t)
	r.agent.mu.Unlock()
	r.typ(p, "\r")
	r.login(p)
}

func TestActivationPasscodeWinsOverConfig(t *testing.T) {
	other, err := HashPasscodeCost("9999", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(o *Options) { o.Config.PasscodeHash = other })
	r.agent.mu.Lock()
	r.agent.hash = testHash(t)
	r.agent.mu.Unlock()
	p := r.port(1)
	r.expect(p, "passcode: ")
	r.typ(p, "9999\r")
	r.expect(p, "Wrong passcode.")
	r.login(p)
	if got := r.run(p, "config show"); !strings.Contains(got, "console_login=passcode set (from the activation)") {
		t.Fatalf("config show:\n%s", got)
	}
}

func TestNoLoginDevMode(t *testing.T) {
	r := newRig(t, func(o *Options) { o.Config.PasscodeHash = ""; o.Config.NoLogin = true })
	p := r.port(1)
	r.expect(p, "Console login is off (--console-no-login, for development only).")
	r.typ(p, "\r")
	r.expect(p, "Logged in.")
	r.expect(p, "timeclock> ")
	if got := r.run(p, "status"); !strings.Contains(got, "state=idle") {
		t.Fatalf("status:\n%s", got)
	}
}

func TestSecretsNeverShownOrLogged(t *testing.T) {
	const wrong = "97531864"
	r := newRig(t, nil)
	p := r.port(1)
	r.expect(p, "passcode: ")
	r.typ(p, wrong+"\r")
	r.expect(p, "Wrong passcode.")
	r.login(p)
	slog.New(r.ring.Handler(slog.LevelInfo)).Info("pin entered", "pin", "4711", "employee", "e42")
	logOut := r.run(p, "log 50")
	if !strings.Contains(logOut, `msg="pin entered" pin=[redacted] employee=e42`) {
		t.Errorf("log output lacks the redacted line:\n%s", logOut)
	}
	cfgOut := r.run(p, "config show")
	if !strings.Contains(cfgOut, "api_token=[redacted]") || !strings.Contains(cfgOut, "console_login=passcode set (from the config file)") {
		t.Errorf("config show:\n%s", cfgOut)
	}
	everything := p.out() + r.logBuf.String() + strings.Join(r.ring.Tail(0), "\n")
	for _, secret := range []string{wrong, techPass, "4711", "tok-5551212", testHash(t)} {
		if strings.Contains(everything, secret) {
			t.Errorf("%q reached the console output or a log", secret)
		}
	}
}

func TestConfirmations(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.login(p)

	r.typ(p, "reboot\r")
	r.expect(p, "Reboot the clock now? [y/N] ")
	if got := r.run(p, "n"); !strings.Contains(got, "Cancelled.") {
		t.Fatalf("reboot n:\n%s", got)
	}
	r.typ(p, "reboot\r")
	r.expect(p, "[y/N] ")
	if got := r.run(p, "y"); !strings.Contains(got, "Rebooting.") {
		t.Fatalf("reboot y:\n%s", got)
	}
	if n, _, _ := r.agent.counts(); n != 1 {
		t.Fatalf("reboots = %d, want 1", n)
	}
	// A confirmation is never answered by type-ahead.
	r.typ(p, "reboot\ry\r")
	r.expect(p, "[y/N] ")
	r.typ(p, "\x03")
	r.expect(p, "timeclock> ")
	if n, _, _ := r.agent.counts(); n != 1 {
		t.Fatalf("type-ahead confirmed a reboot")
	}

	r.agent.mu.Lock()
	r.agent.pending = 3
	r.agent.mu.Unlock()
	got := r.run(p, "factory-reset")
	if !strings.Contains(got, "factory-reset: 3 punches are not yet acknowledged by the cloud and would be lost. Run sync first, or factory-reset force") {
		t.Fatalf("factory-reset with pending punches:\n%s", got)
	}
	r.typ(p, "factory-reset force\r")
	r.expect(p, "WARNING: 3 pending punches will be lost.")
	r.expect(p, "Type yes to erase everything: ")
	if got := r.run(p, "y"); !strings.Contains(got, "Cancelled; nothing was erased.") {
		t.Fatalf("factory-reset needs a full yes:\n%s", got)
	}
	r.typ(p, "factory-reset force\r")
	r.expect(p, "Type yes to erase everything: ")
	r.run(p, "yes")
	if _, n, _ := r.agent.counts(); n != 1 {
		t.Fatalf("resets = %d, want 1", n)
	}
	r.agent.mu.Lock()
	r.agent.pending = 0
	r.agent.mu.Unlock()
	r.typ(p, "factory-reset\r")
	r.expect(p, "Type yes to erase everything: ")
	r.run(p, "no")

	r.typ(p, "onboard\r")
	r.expect(p, "Start onboarding again? The clock takes no punches until it is onboarded. [y/N] ")
	if got := r.run(p, "yes"); !strings.Contains(got, "onboard: onboarding is not in this build yet") {
		t.Fatalf("onboard:\n%s", got)
	}
	if _, n, o := r.agent.counts(); n != 1 || o != 1 {
		t.Fatalf("resets %d onboards %d", n, o)
	}
}

func TestStoppedWithTheClock(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.login(p)
	r.stop()
	r.expect(p, "The clock is stopping; console closed.")
	if _, err := p.w.Write([]byte("x")); err == nil {
		t.Fatal("port still open after Run returned")
	}
}

func TestShortDurations(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30s", 29*time.Second + time.Millisecond: "30s", time.Minute: "1m",
		150 * time.Second: "2m30s", time.Hour: "1h", 90 * time.Minute: "1h30m",
	} {
		if got := short(d); got != want {
			t.Errorf("short(%v) = %q, want %q", d, got, want)
		}
	}
}

// The console reopens a vanished port with backoff, logs the outage once,
// and the technician logs in again.
func TestPortVanishesAndComesBack(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.login(p)
	r.setPlugged(false)
	p.unplug()
	await.True(t, timeout, func() bool { return strings.Contains(r.logBuf.String(), "console port lost") }, "no port lost log")
	// Retries fail for a while; each waits on the clock.
	for i := 0; i < 6; i++ {
		await.True(t, timeout, func() bool { return r.clk.Timers() == 1 }, "console not waiting to retry")
		n := r.openCount()
		r.clk.Advance(reopenMax)
		await.True(t, timeout, func() bool { return r.openCount() > n }, "console did not retry")
	}
	r.setPlugged(true)
	await.True(t, timeout, func() bool { return r.clk.Timers() == 1 }, "console not waiting to retry")
	r.clk.Advance(reopenMax)
	p2 := r.port(2)
	r.expect(p2, "timeclock serial console")
	r.expect(p2, "passcode: ")
	r.typ(p2, "status\r")
	r.expect(p2, "Wrong passcode.") // a new session: logged out
	r.login(p2)
	if got := r.run(p2, "status"); !strings.Contains(got, "state=idle") {
		t.Fatalf("status after replug:\n%s", got)
	}
	logs := r.logBuf.String()
	for msg, want := range map[string]int{"console port lost": 1, "console port unavailable": 0, "console port back": 1} {
		if n := strings.Count(logs, msg); n != want {
			t.Errorf("%q logged %d times, want %d:\n%s", msg, n, want, logs)
		}
	}
	if !strings.Contains(logs, `msg="console logout" port=test reason="port closed"`) {
		t.Errorf("session end not logged:\n%s", logs)
	}
}

func TestPortMissingAtStart(t *testing.T) {
	r := newRigWith(t, false, nil)
	for range 3 {
		await.True(t, timeout, func() bool { return r.clk.Timers() == 1 }, "console not waiting to retry")
		n := r.openCount()
		r.clk.Advance(reopenMax)
		await.True(t, timeout, func() bool { return r.openCount() > n }, "console did not retry")
	}
	if n := strings.Count(r.logBuf.String(), "console port unavailable"); n != 1 {
		t.Fatalf("unavailable logged %d times:\n%s", n, r.logBuf.String())
	}
	r.setPlugged(true)
	await.True(t, timeout, func() bool { return r.clk.Timers() == 1 }, "console not waiting to retry")
	r.clk.Advance(reopenMax)
	r.login(r.port(1))
	await.True(t, timeout, func() bool { return strings.Contains(r.logBuf.String(), "console port back") }, "no back log")
}

// storage prints the agent's fields; storage ack confirms, then clears the
// notice once, and says so when there is nothing to clear.
func TestStorage(t *testing.T) {
	r := newRig(t, nil)
	r.agent.mu.Lock()
	r.agent.notice = true
	r.agent.mu.Unlock()
	p := r.port(1)
	r.login(p)

	if got := r.run(p, "storage"); !strings.Contains(got, "path=/var/lib/timeclock/state.db\nrecovered=true\npending=0\n") {
		t.Fatalf("storage:\n%s", got)
	}
	if got := r.run(p, "storage sideways"); !strings.Contains(got, "usage: storage [ack]") {
		t.Fatalf("storage sideways:\n%s", got)
	}
	r.typ(p, "storage ack\r")
	r.expect(p, "A damaged state file was set aside.")
	r.expect(p, `Clear "Storage recovered, call service" from the clock's screen? [y/N] `)
	if got := r.run(p, "n"); !strings.Contains(got, "Cancelled.") {
		t.Fatalf("storage ack n:\n%s", got)
	}
	r.typ(p, "STORAGE ACK\r")
	r.expect(p, "[y/N] ")
	if got := r.run(p, "y"); !strings.Contains(got, "Storage notice cleared: the clock's screen no longer shows it.") {
		t.Fatalf("storage ack y:\n%s", got)
	}
	if got := r.run(p, "storage ack"); !strings.Contains(got, "Nothing to clear: the clock's screen shows no storage notice.") {
		t.Fatalf("storage ack with no notice:\n%s", got)
	}
	r.agent.mu.Lock()
	clears := r.agent.clears
	r.agent.mu.Unlock()
	if clears != 1 {
		t.Fatalf("ClearStorageNotice called %d times, want 1 (only after y)", clears)
	}
	if !strings.Contains(r.logBuf.String(), "console: storage notice cleared") {
		t.Errorf("clearing not logged:\n%s", r.logBuf.String())
	}
}
