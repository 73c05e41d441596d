package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"timeclock/agent"
	"timeclock/hal"
	"timeclock/hal/haltest"
	"timeclock/hal/sim"
	"timeclock/internal/await"
	"timeclock/internal/daemontest"
	"timeclock/internal/sdnotify"
	"timeclock/internal/syncbuf"
)

// fakeSystemd is the receiving end of NOTIFY_SOCKET: every datagram, in
// order, on a channel.
type fakeSystemd struct {
	t    *testing.T
	addr string
	msgs chan string
}

func listenNotify(t *testing.T, addr string) *fakeSystemd {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSystemd{t: t, addr: addr, msgs: make(chan string, 1024)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 4096)
		for {
			n, err := c.Read(b)
			if err != nil {
				return
			}
			f.msgs <- string(b[:n])
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return f
}

// await reads datagrams until one contains want, and returns it.
func (f *fakeSystemd) await(want string, timeout time.Duration) string {
	f.t.Helper()
	deadline := time.After(timeout)
	var seen []string
	for {
		select {
		case m := <-f.msgs:
			if strings.Contains(m, want) {
				return m
			}
			seen = append(seen, m)
		case <-deadline:
			f.t.Fatalf("no notification with %q within %v; got %q", want, timeout, seen)
		}
	}
}

// quiet reports whether no datagram with what arrives for d.
func (f *fakeSystemd) quiet(what string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case m := <-f.msgs:
			if strings.Contains(m, what) {
				return false
			}
		case <-deadline:
			return true
		}
	}
}

// The clock started as systemd starts it: READY=1 with its first screen,
// STATUS= following the punches, WATCHDOG=1 pings, STOPPING=1 on SIGTERM.
// The socket is abstract (@), as systemd's own is not, to cover both kinds
// (internal/sdnotify covers path sockets).
func TestSystemdNotifyFromTheDaemon(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	sock := filepath.Join(dir, "sim.sock")
	sd := listenNotify(t, fmt.Sprintf("@timeclockd-test-%d", time.Now().UnixNano()))
	p := daemontest.StartEnv(t, bin, []string{"NOTIFY_SOCKET=" + sd.addr, "WATCHDOG_USEC=900000"},
		"--board", "sim", "--state-dir", dir, "--sim-socket", sock, "--roster-file", demoRoster(t))
	ready := sd.await("READY=1", e2eTimeout)
	if !strings.Contains(ready, "STATUS=idle, 0 pending, standalone") {
		t.Errorf("READY without the idle status: %q", ready)
	}
	s := daemontest.DialSim(t, sock, e2eTimeout)
	if scr := s.Screen(); !strings.Contains(scr, "Badge or PIN") {
		t.Errorf("READY before the idle screen: %q", scr)
	}
	sd.await("WATCHDOG=1", e2eTimeout)
	sd.await("WATCHDOG=1", e2eTimeout)
	s.OK("badge 10003") // Alan Turing: no departments to pick
	s.WaitScreen("IN", e2eTimeout)
	sd.await("STATUS=feedback, 1 pending, standalone", e2eTimeout)
	sd.await("STATUS=idle, 1 pending, standalone", e2eTimeout)
	p.Cmd.Process.Signal(syscall.SIGTERM)
	sd.await("STOPPING=1", e2eTimeout)
	if err := p.Wait(t, e2eTimeout); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if !strings.Contains(p.Output(), "systemd: ready") {
		t.Errorf("the log does not say ready:\n%s", p.Output())
	}
}

// A punch loop hung in a display write stops the watchdog pings; they
// resume when it comes back. The agent is the real one on the sim board;
// only its display is wrapped.
func TestWatchdogPingsStopWhileThePunchLoopHangs(t *testing.T) {
	b, err := sim.New(&sim.Opts{Cols: 20, Rows: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Halt()
	disp := &haltest.HangingDisplay{Display: b.Display()}
	cfg := agent.DefaultConfig()
	cfg.StateDir = t.TempDir()
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	a, err := agent.New(cfg, agent.Hardware{Model: "sim", Keypad: b.Keypad(), Display: disp,
		Badges: []hal.BadgeReader{b.BadgeReader()}, Indicator: b.Indicator(), Network: []string{"eth0"}},
		agent.Options{Logger: log, NTPSynced: func() bool { return true }, NetworkIface: func() string { return "eth0" }})
	if err != nil {
		t.Fatal(err)
	}
	sd := listenNotify(t, filepath.Join(t.TempDir(), "notify"))
	const wd = 600 * time.Millisecond
	n, err := sdnotify.FromEnv(func(k string) string {
		return map[string]string{"NOTIFY_SOCKET": sd.addr, "WATCHDOG_USEC": fmt.Sprint(wd.Microseconds())}[k]
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.Run(ctx) }()
	go func() { defer wg.Done(); superviseSystemd(ctx, n, a, log) }()
	defer func() {
		cancel()
		wg.Wait()
		if t.Failed() {
			t.Logf("log:\n%s", logs)
		}
	}()

	sd.await("READY=1", e2eTimeout)
	sd.await("WATCHDOG=1", e2eTimeout)
	disp.Hold()
	b.Press(hal.Key5) // the punch loop draws the entry screen and hangs in Show
	sd.await("NOT RESPONDING", e2eTimeout)
	if !sd.quiet("WATCHDOG=1", 2*wd) {
		t.Fatal("a WATCHDOG=1 ping while the punch loop hung")
	}
	if !strings.Contains(logs.String(), "pings withheld") {
		t.Errorf("the withheld pings are not logged:\n%s", logs)
	}
	disp.Release()
	sd.await("WATCHDOG=1", e2eTimeout)
	sd.await("STATUS=entry, 0 pending, standalone", e2eTimeout)
}

// Under timeclockd.service a reboot is an exit with --reboot-exit's status,
// after the clock closed its state; the unit's ExecStopPost reboots as root.
func TestRebootExitsWithTheServiceStatus(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	_, in, out, done := startStdio(t, bin, "--board", "sim", "--state-dir", dir, "--console", "stdio", "--console-no-login", "--reboot-exit", "10")
	await.True(t, e2eTimeout, func() bool { return strings.Contains(out.String(), "idle") }, "clock not idle:\n%s", out)
	io.WriteString(in, "\n") // Enter starts the session
	await.True(t, e2eTimeout, func() bool { return strings.Contains(out.String(), "timeclock> ") }, "no prompt:\n%s", out)
	io.WriteString(in, "reboot\n")
	await.True(t, e2eTimeout, func() bool { return strings.Contains(out.String(), "Reboot the clock now?") }, "no confirm:\n%s", out)
	io.WriteString(in, "y\n")
	select {
	case err := <-done:
		if exitCode(err) != 10 {
			t.Fatalf("exit %v, want status 10:\n%s", err, out)
		}
	case <-time.After(e2eTimeout):
		t.Fatalf("the clock did not exit for the reboot:\n%s", out)
	}
	if !strings.Contains(out.String(), "stopped for a reboot") {
		t.Errorf("no clean stop before the reboot:\n%s", out)
	}
}

// The configs the packages install load, with the flags the unit passes.
func TestPackagedConfigsLoad(t *testing.T) {
	for conf, board := range map[string]string{"timeclockd.json": "rpi-devkit", "timeclockd-sim.json": "sim"} {
		fl, err := parseFlags([]string{"--config", filepath.Join("..", "..", "packaging", "etc", conf), "--state-dir", t.TempDir(), "--reboot-exit", "10"})
		if err != nil {
			t.Fatal(err)
		}
		fc, err := loadConfig(fl)
		if err != nil {
			t.Fatalf("%s: %v", conf, err)
		}
		if fc.Board != board {
			t.Errorf("%s: board %q, want %q", conf, fc.Board, board)
		}
		if _, err := pickModel(fc); err != nil {
			t.Errorf("%s: %v", conf, err)
		}
	}
	unit, err := os.ReadFile(filepath.Join("..", "..", "packaging", "systemd", "timeclockd.service"))
	if err != nil {
		t.Fatal(err)
	}
	// The agent runs from the update slot; the package's binary runs the
	// update checks before and after (docs/updates.md). Every line's flags
	// parse.
	m := regexp.MustCompile(`(?m)^ExecStart=/var/lib/timeclock/slots/current/timeclockd (.*)$`).FindSubmatch(unit)
	if m == nil {
		t.Fatal("no ExecStart of the update slot in the unit")
	}
	lines := [][]byte{m[1]}
	for _, want := range []string{"--update-check", "--update-stopped"} {
		h := regexp.MustCompile(`(?m)^Exec(?:StartPre|StopPost)=-/usr/bin/timeclockd (.*` + want + `.*)$`).FindSubmatch(unit)
		if h == nil {
			t.Fatalf("no ExecStartPre/ExecStopPost running timeclockd %s", want)
		}
		lines = append(lines, h[1])
	}
	for _, l := range lines {
		if _, err := parseFlags(strings.Fields(string(l))); err != nil {
			t.Errorf("the unit's flags %q: %v", l, err)
		}
	}
	if !regexp.MustCompile(`(?m)^SuccessExitStatus=10 11$`).Match(unit) {
		t.Error("the unit does not count the update restart (status 11) as a success")
	}
}

// On systemd's journal stream every line carries its priority and leaves
// the time to the journal: journalctl -p warning finds the warnings.
func TestJournalStreamPriorities(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	stream, err := os.Create(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	fi, err := stream.Stat()
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	cmd := exec.Command(bin, "--board", "sim", "--state-dir", filepath.Join(dir, "state"))
	cmd.Env = append(os.Environ(), fmt.Sprintf("JOURNAL_STREAM=%d:%d", st.Dev, st.Ino))
	cmd.Stdout, cmd.Stderr = stream, stream
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() { cmd.Process.Kill(); <-done }()
	read := func() string { b, _ := os.ReadFile(stream.Name()); return string(b) }
	await.True(t, e2eTimeout, func() bool {
		return strings.Contains(read(), "<6>level=INFO msg=\"state starting -> idle (started)\"")
	}, "no idle line with its priority in the journal stream")
	if !strings.Contains(read(), "<4>level=WARN msg=\"the roster is empty") {
		t.Errorf("the empty roster's warning lacks priority 4:\n%s", read())
	}
	if strings.Contains(read(), "time=") {
		t.Errorf("the journal stamps lines itself; time= is left in:\n%s", read())
	}
}

// startStdio starts timeclockd with a pipe on its stdin (a console on
// stdio) and its output collected; done gets Wait's error. The process is
// killed at the test's end if it still runs.
func startStdio(t *testing.T, bin string, args ...string) (cmd *exec.Cmd, in io.Writer, out *syncbuf.Buffer, done <-chan error) {
	t.Helper()
	cmd = exec.Command(bin, args...)
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out = &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := make(chan error, 1)
	go func() { d <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, w, out, d
}
