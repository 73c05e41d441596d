package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"timeclock/agent/console"
	"timeclock/internal/await"
	"timeclock/internal/daemontest"
	"timeclock/internal/testenv"
	"timeclock/internal/tmuxtest"
)

const (
	e2eTimeout = 15 * time.Second
	techPass   = "2468"
)

// ptyPair is socat joining two ptys: the clock's serial port at console
// and the technician's laptop end at laptop, as a null-modem cable would.
type ptyPair struct {
	t               testing.TB
	console, laptop string
	cmd             *exec.Cmd
	done            chan struct{}
	log             bytes.Buffer
}

func startPtys(t testing.TB, dir string) *ptyPair {
	t.Helper()
	p := &ptyPair{t: t, console: filepath.Join(dir, "tc-console"), laptop: filepath.Join(dir, "tc-laptop"), done: make(chan struct{})}
	p.cmd = exec.Command(testenv.Tool(t, "socat"), "-d", "-d",
		"pty,raw,echo=0,link="+p.console, "pty,raw,echo=0,link="+p.laptop)
	p.cmd.Stderr = &p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	await.True(t, e2eTimeout, func() bool {
		_, e1 := os.Stat(p.console)
		_, e2 := os.Stat(p.laptop)
		return e1 == nil && e2 == nil
	}, "socat never made the pty links")
	return p
}

// stop kills socat, as pulling the USB serial adapter does.
func (p *ptyPair) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
}

// cheapHash is the technician passcode hashed at bcrypt's lowest cost, so
// the race-built clock checks it quickly; TestHashPasscode covers the
// documented --hash-passcode path with the real cost.
func cheapHash(t testing.TB) string {
	h, err := console.HashPasscodeCost(techPass, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// consoleClock is a timeclockd on the sim board with its console on a pty.
type consoleClock struct {
	t     *testing.T
	dir   string
	ptys  *ptyPair
	proc  *daemontest.Proc
	sim   *daemontest.Sim
	sock  string
	state string
}

func startConsoleClock(t *testing.T, extraCfg string) *consoleClock {
	t.Helper()
	return startConsoleClockOn(t, extraCfg, nil, "Badge or PIN")
}

// startConsoleClockOn is startConsoleClock with the state directory
// prepared by prepare (when not nil) before the clock starts; it waits for
// screen to show.
func startConsoleClockOn(t *testing.T, extraCfg string, prepare func(stateDir string), screen string) *consoleClock {
	t.Helper()
	testenv.Tool(t, "picocom")
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	c := &consoleClock{t: t, dir: dir, sock: filepath.Join(dir, "sim.sock"), state: filepath.Join(dir, "state")}
	c.ptys = startPtys(t, dir)
	cfg := filepath.Join(dir, "clock.json")
	body := fmt.Sprintf(`{"console_passcode_hash": %q%s}`, cheapHash(t), extraCfg)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		if err := os.MkdirAll(c.state, 0o700); err != nil {
			t.Fatal(err)
		}
		prepare(c.state)
	}
	c.proc = daemontest.Start(t, bin, "--state-dir", c.state, "--sim-socket", c.sock, "--config", cfg, "--console", c.ptys.console)
	c.sim = daemontest.DialSim(t, c.sock, e2eTimeout)
	c.sim.WaitScreen(screen, e2eTimeout)
	return c
}

// picocom attaches picocom to the laptop end in a tmux pane, as a
// technician does, and presses Enter for the prompt.
func (c *consoleClock) picocom() *tmuxtest.Session {
	c.t.Helper()
	s := tmuxtest.Start(c.t, nil, "picocom -b 115200 "+c.ptys.laptop)
	s.WaitFor("Terminal ready", e2eTimeout)
	s.Keys("Enter")
	s.WaitFor("passcode:", e2eTimeout)
	return s
}

// typeLine types a line and presses Enter.
func typeLine(s *tmuxtest.Session, line string) {
	s.Literal(line)
	s.Keys("Enter")
}

// count waits until text shows n times in the pane's history.
func count(t *testing.T, s *tmuxtest.Session, text string, n int) {
	t.Helper()
	var h string
	ok := false
	defer func() {
		if !ok {
			t.Logf("pane:\n%s", h)
		}
	}()
	await.True(t, e2eTimeout, func() bool {
		h = s.History()
		return strings.Count(h, text) >= n
	}, "%q never showed %d times", text, n)
	ok = true
}

func login(t *testing.T, s *tmuxtest.Session, logins int) {
	t.Helper()
	typeLine(s, techPass)
	count(t, s, "Logged in.", logins)
}

func TestConsoleOverSerialWithPicocom(t *testing.T) {
	c := startConsoleClock(t, "")
	s := c.picocom()
	login(t, s, 1)

	typeLine(s, "status")
	scr := s.WaitFor("network=", e2eTimeout)
	for _, want := range []string{"state=idle", "pending=0", "synced=", "network=", "model=sim"} {
		if !strings.Contains(scr, want) {
			t.Errorf("status lacks %s:\n%s", want, scr)
		}
	}
	typeLine(s, "help")
	s.WaitFor("factory-reset [force]", e2eTimeout)
	typeLine(s, "frobnicate")
	s.WaitFor(`unknown command "frobnicate" (type help for what each does); commands:`, e2eTimeout)
	s.WaitFor("  help status time netcheck punches sync log config hw reboot factory-reset", e2eTimeout)

	// Line editing as a terminal user expects: Backspace, then Up recalls.
	s.Literal("timx")
	s.Keys("BSpace")
	typeLine(s, "e")
	count(t, s, "zone=UTC", 1)
	s.Keys("Up", "Enter")
	count(t, s, "zone=UTC", 2)

	// The keypad check gets the key presses instead of the punch flow.
	typeLine(s, "hw keypad")
	s.WaitFor("Keypad check: press keys", e2eTimeout)
	c.sim.OK("key 5")
	s.WaitFor("key 5", e2eTimeout)
	c.sim.WaitScreen("Key: 5", e2eTimeout)
	s.Keys("C-c")
	s.WaitFor("Keypad check ended: 1 key pressed.", e2eTimeout)
	c.sim.WaitScreen("Badge or PIN", e2eTimeout)

	typeLine(s, "logout")
	s.WaitFor("Logged out.", e2eTimeout)

	// Five wrong passcodes lock the console; the right one is refused then.
	for i := 1; i <= 5; i++ {
		count(t, s, "passcode:", 2+i-1)
		typeLine(s, "1357")
		count(t, s, "Wrong passcode.", i)
	}
	s.WaitFor("The console is locked after 5 wrong passcodes; try again in 30s.", e2eTimeout)
	typeLine(s, techPass)
	count(t, s, "The console is locked after 5 wrong passcodes", 2)
	if strings.Count(s.History(), "Logged in.") != 1 {
		t.Fatal("logged in while locked")
	}

	all := s.History() + c.proc.Output()
	if strings.Contains(all, techPass) || strings.Contains(all, "1357") {
		t.Errorf("a passcode was echoed or logged:\n%s", c.proc.Output())
	}
	for _, want := range []string{`msg="console login"`, `msg="console login failed"`, "failures=5 locked_for=30s"} {
		if !strings.Contains(c.proc.Output(), want) {
			t.Errorf("clock log lacks %s", want)
		}
	}
}

// Unplugging the adapter (killing socat) and plugging it back in (socat
// again on the same paths): the console comes back and asks for the
// passcode again; the outage is logged once.
func TestConsoleSurvivesThePortVanishing(t *testing.T) {
	c := startConsoleClock(t, "")
	s := c.picocom()
	login(t, s, 1)
	typeLine(s, "status")
	s.WaitFor("state=idle", e2eTimeout)

	c.ptys.stop()
	c.proc.WaitOutput(t, "console port lost", e2eTimeout)
	await.True(t, e2eTimeout, s.Dead, "picocom kept running without its port")
	c.sim.WaitScreen("Badge or PIN", e2eTimeout) // the clock carries on

	c.ptys = startPtys(t, c.dir)
	c.proc.WaitOutput(t, "console port back", e2eTimeout)
	s2 := c.picocom()
	typeLine(s2, "status")
	s2.WaitFor("Wrong passcode.", e2eTimeout) // a new session: not logged in
	count(t, s2, "passcode:", 2)
	login(t, s2, 1)
	typeLine(s2, "status")
	s2.WaitFor("state=idle", e2eTimeout)
	out := c.proc.Output()
	if n := strings.Count(out, "console port lost"); n != 1 {
		t.Errorf("port lost logged %d times:\n%s", n, out)
	}
	if n := strings.Count(out, "console port unavailable"); n > 1 {
		t.Errorf("unavailable logged %d times (once per outage):\n%s", n, out)
	}
}

// reboot restarts the simulated clock's process; factory-reset erases the
// state at that restart.
func TestConsoleRebootAndFactoryReset(t *testing.T) {
	c := startConsoleClock(t, "")
	s := c.picocom()
	login(t, s, 1)
	typeLine(s, "reboot")
	s.WaitFor("Reboot the clock now? [y/N]", e2eTimeout)
	typeLine(s, "y")
	s.WaitFor("Rebooting.", e2eTimeout)
	c.proc.WaitOutput(t, "stopped for a reboot", e2eTimeout)
	await.True(t, e2eTimeout, func() bool { return strings.Count(c.proc.Output(), "console port open") == 2 }, "console not back after the reboot")
	if c.proc.Exited() {
		t.Fatalf("the clock exited instead of restarting:\n%s", c.proc.Output())
	}
	c.sim = daemontest.DialSim(t, c.sock, e2eTimeout)
	c.sim.WaitScreen("Badge or PIN", e2eTimeout)

	s.Keys("Enter")
	count(t, s, "passcode:", 2)
	login(t, s, 2)
	marker := filepath.Join(c.state, "journal.db")
	os.WriteFile(marker, []byte("punches"), 0o600)
	typeLine(s, "factory-reset")
	s.WaitFor("Type yes to erase everything:", e2eTimeout)
	typeLine(s, "yes")
	s.WaitFor("Factory reset: the clock restarts now.", e2eTimeout)
	c.proc.WaitOutput(t, "factory reset: the state directory was erased", e2eTimeout)
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("state survived the factory reset: %v", err)
	}
	c.sim = daemontest.DialSim(t, c.sock, e2eTimeout)
	c.sim.WaitScreen("Badge or PIN", e2eTimeout)
}

// A clock whose state file was damaged says so on its screen until service
// has looked: storage shows the file set aside, storage ack takes the
// notice off the screen.
func TestConsoleStorageAck(t *testing.T) {
	damage := func(state string) {
		if err := os.WriteFile(filepath.Join(state, "state.db"), []byte(strings.Repeat("garbage!", 2000)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := startConsoleClockOn(t, "", damage, "Storage recovered,")
	s := c.picocom()
	login(t, s, 1)

	typeLine(s, "storage")
	scr := s.WaitFor("fill=", e2eTimeout)
	for _, want := range []string{"path=" + filepath.Join(c.state, "state.db"), "recovered=true", "recovered_at=",
		"damaged=state.db.damaged-", " (16000 bytes)", "pending=0", "capacity="} {
		if !strings.Contains(scr, want) {
			t.Errorf("storage lacks %s:\n%s", want, scr)
		}
	}
	typeLine(s, "storage ack")
	s.WaitFor(`Clear "Storage recovered, call service" from the clock's screen? [y/N]`, e2eTimeout)
	typeLine(s, "y")
	s.WaitFor("Storage notice cleared", e2eTimeout)
	if scr := c.sim.WaitScreen("Badge or PIN", e2eTimeout); strings.Contains(scr, "recovered") {
		t.Fatalf("the notice stayed on the screen:\n%s", scr)
	}
	typeLine(s, "storage")
	count(t, s, "recovered=false", 1)
	c.proc.WaitOutput(t, "storage notice cleared", e2eTimeout)
}

func TestHashPasscode(t *testing.T) {
	t.Parallel() // bcrypt at its real cost is slow in a race build
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	cmd := exec.Command(bin, "--hash-passcode")
	cmd.Stdin = strings.NewReader("7391\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	h := strings.TrimSpace(string(out))
	if ok, err := console.VerifyPasscode(h, "7391"); !ok || err != nil || strings.Contains(h, "7391") {
		t.Fatalf("hash %q: %v %v", h, ok, err)
	}
	cmd = exec.Command(bin, "--hash-passcode")
	cmd.Stdin = strings.NewReader("12\n")
	b, err := cmd.CombinedOutput()
	if exitCode(err) != 1 || !strings.Contains(string(b), "want 4 to 72") {
		t.Fatalf("short passcode: %v %s", err, b)
	}
}

func TestConsoleConfigErrors(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	for _, tc := range []struct {
		cfg, args, want string
	}{
		{`{"console_parity": "mark"}`, "", "console_parity"},
		{`{"console_passcode_hash": "2468"}`, "", "console_passcode_hash"},
		{`{"console_idle_logout": "1s"}`, "", "console_idle_logout"},
		{`{}`, "--console-no-login", "--console-no-login is for a --console"},
	} {
		cfg := filepath.Join(dir, "c.json")
		os.WriteFile(cfg, []byte(tc.cfg), 0o600)
		args := []string{"--state-dir", dir, "--config", cfg}
		if tc.args != "" {
			args = append(args, tc.args)
		}
		out, err := exec.Command(bin, args...).CombinedOutput()
		if exitCode(err) == 0 || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s %s: exit %d, %s", tc.cfg, tc.args, exitCode(err), out)
		}
	}
}

// ptyTerminal is the laptop end of the pty pair driven directly, for what
// a person cannot type: a binary flood.
type ptyTerminal struct {
	f    *os.File
	mu   sync.Mutex
	out  bytes.Buffer // guarded by mu
	mark int
	done chan struct{}
}

func openLaptop(t *testing.T, path string) *ptyTerminal {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyTerminal{f: f, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { f.Close(); <-p.done })
	return p
}

// expect waits for text in what the console wrote since the last expect.
func (p *ptyTerminal) expect(t *testing.T, text string) {
	t.Helper()
	await.True(t, e2eTimeout, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		i := strings.Index(p.out.String()[p.mark:], text)
		if i >= 0 {
			p.mark += i + len(text)
		}
		return i >= 0
	}, "console never wrote %q", text)
}

func (p *ptyTerminal) send(t *testing.T, s string) {
	t.Helper()
	if _, err := p.f.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// Random bytes over the real serial path (socat pty, go.bug.st/serial)
// neither crash nor wedge the console.
func TestConsoleBinaryFloodOverThePty(t *testing.T) {
	c := startConsoleClock(t, "")
	term := openLaptop(t, c.ptys.laptop)
	term.send(t, "\r")
	term.expect(t, "passcode: ")
	term.send(t, techPass+"\r")
	term.expect(t, "Logged in.")
	rng := rand.New(rand.NewPCG(7, 7))
	buf := make([]byte, 256<<10)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	// Written in pieces: a pty takes a few KiB at a time.
	for len(buf) > 0 {
		n := min(len(buf), 4096)
		term.send(t, string(buf[:n]))
		buf = buf[n:]
	}
	term.send(t, "\x03\x03\x15status\r")
	term.expect(t, "state=idle")
	if c.proc.Exited() {
		t.Fatalf("the clock died:\n%s", c.proc.Output())
	}
	c.sim.WaitScreen("Badge or PIN", e2eTimeout)
}

// --console stdio on a terminal: raw mode, so Ctrl-C reaches the console
// (cancelling the line) instead of stopping the clock.
func TestConsoleOnStdioTerminal(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "clock.json")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`{"console_passcode_hash": %q}`, cheapHash(t))), 0o600)
	sock := filepath.Join(dir, "sim.sock")
	s := tmuxtest.Start(t, nil, fmt.Sprintf("%s --state-dir %s --sim-socket %s --config %s --console stdio", bin, dir, sock, cfg))
	s.WaitFor("passcode:", e2eTimeout)
	login(t, s, 1)
	s.Literal("reboot")
	s.Keys("C-c")
	s.WaitFor("reboot^C", e2eTimeout)
	// The console answers before the clock reaches idle: wait for the idle
	// screen, then ask.
	sim := daemontest.DialSim(t, sock, e2eTimeout)
	sim.WaitScreen("Badge or PIN", e2eTimeout)
	typeLine(s, "status")
	s.WaitFor("state=idle", e2eTimeout)
	if s.Dead() {
		t.Fatal("Ctrl-C stopped the clock")
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "timeclockd.log")); !strings.Contains(string(log), "console port open") {
		t.Errorf("the log did not go to the state directory's file:\n%s", log)
	}
}
