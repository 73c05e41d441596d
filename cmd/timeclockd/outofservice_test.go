package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/internal/await"
	"timeclock/internal/daemontest"
)

// oosConfig writes a config file outside the state directory.
func oosConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "timeclockd.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The agent refuses its config (a misspelt key); --out-of-service still
// finds the board in it, shows the screen on the sim's control socket,
// answers a badge with the error feedback and records nothing, tells
// systemd (READY, STATUS with the reason, watchdog pings), and once
// --retry-in has passed exits with status 12: try the agent again.
func TestOutOfServiceFromTheDaemon(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	state := t.TempDir()
	sock := filepath.Join(t.TempDir(), "sim.sock")
	cfg := oosConfig(t, fmt.Sprintf(`{"board": "sim", "sim_socket": %q, "duplicate_windw": "60s"}`, sock))
	// The agent itself refuses this config.
	if out, err := exec.Command(bin, "--config", cfg, "--state-dir", state).CombinedOutput(); exitCode(err) != 1 ||
		!strings.Contains(string(out), "duplicate_windw") {
		t.Fatalf("the agent on the bad config: %v\n%s", err, out)
	}
	sd := listenNotify(t, fmt.Sprintf("@timeclockd-oos-%d", time.Now().UnixNano()))
	const pause = 4 * time.Second
	p := daemontest.StartEnv(t, bin, []string{"NOTIFY_SOCKET=" + sd.addr, "WATCHDOG_USEC=900000"},
		"--config", cfg, "--state-dir", state, "--out-of-service", "--retry-in", pause.String())
	ready := sd.await("READY=1", e2eTimeout)
	if !strings.Contains(ready, "STATUS=out of service, agent tried again in 0:0") || !strings.Contains(ready, "duplicate_windw") {
		t.Errorf("READY without the out-of-service status and its reason: %q", ready)
	}
	s := daemontest.DialSim(t, sock, e2eTimeout)
	scr := s.WaitScreen("Out of service", e2eTimeout)
	for _, want := range []string{"Use another clock", "Retry in 0:0"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen %q: no %q", scr, want)
		}
	}
	st := s.OK("status")
	if st["state"] != "out-of-service" || !strings.Contains(fmt.Sprint(st["reason"]), "duplicate_windw") || st["retry_at"] == nil {
		t.Errorf("status %v: want state out-of-service, the config's error as reason, retry_at", st)
	}
	sd.await("WATCHDOG=1", e2eTimeout)
	s.OK("badge 10002") // Grace Hopper, on the demo roster: still refused
	s.OK("key 5")
	waitLeds(t, s, 2)
	if l := s.OK("leds"); l["buzzer"] != "error" || l["red"] != true || l["green"] != false {
		t.Errorf("leds %v after a badge and a key: want the error pattern and the red LED", l)
	}
	if got := s.Screen(); !strings.Contains(got, "Out of service") {
		t.Errorf("screen after the badge %q: want it to stay out of service", got)
	}
	if err := p.Wait(t, pause+e2eTimeout); exitCode(err) != retryExit {
		t.Fatalf("exit %v after the pause, want status %d", err, retryExit)
	}
	out := p.Output()
	for _, want := range []string{"out of service: systemd gave up on the agent", "retry_at=", "duplicate_windw",
		"input refused, nothing recorded", "trying the agent again"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log has no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "10002") {
		t.Errorf("the log names the badge:\n%s", out)
	}
	if ents, err := os.ReadDir(state); err != nil || len(ents) != 0 {
		t.Errorf("the state directory after --out-of-service: %v %v, want it untouched (empty)", ents, err)
	}
}

func waitLeds(t *testing.T, s *daemontest.Sim, beeps int) {
	t.Helper()
	await.True(t, e2eTimeout, func() bool { return s.OK("leds")["beeps"] == float64(beeps) }, "want %d beeps", beeps)
}

// SIGTERM (systemd stopping the unit: the agent starting, or a technician)
// ends the mode with status 0, which starts nothing.
func TestOutOfServiceStopsOnSIGTERM(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	state := t.TempDir()
	sock := filepath.Join(t.TempDir(), "sim.sock")
	p := daemontest.Start(t, bin, "--board", "sim", "--state-dir", state, "--sim-socket", sock, "--out-of-service")
	s := daemontest.DialSim(t, sock, e2eTimeout)
	s.WaitScreen("Retry in 4:", e2eTimeout)
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := p.Wait(t, e2eTimeout); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want 0", err)
	}
	if !strings.Contains(p.Output(), "out of service: stopped") {
		t.Errorf("the log does not say stopped:\n%s", p.Output())
	}
}

// A config that is not JSON names no board: nothing to show, and the mode
// still waits out the pause before it hands back (status 12), so the
// retry keeps its pace instead of looping.
func TestOutOfServiceWithoutABoardStillWaits(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	cfg := oosConfig(t, `{"board": "sim",`)
	const pause = 2 * time.Second
	start := time.Now()
	p := daemontest.Start(t, bin, "--config", cfg, "--state-dir", t.TempDir(), "--out-of-service", "--retry-in", pause.String())
	err := p.Wait(t, pause+e2eTimeout)
	if exitCode(err) != retryExit {
		t.Fatalf("exit %v, want status %d", err, retryExit)
	}
	if took := time.Since(start); took < pause {
		t.Errorf("exited after %v, before the pause of %v", took, pause)
	}
	if !strings.Contains(p.Output(), "no board to show it on") {
		t.Errorf("the log does not say there is no board:\n%s", p.Output())
	}
}

func TestOutOfServiceConfig(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		args       []string
		board      string
		known, err bool
	}{
		{"valid", `{"board": "rpi-devkit"}`, nil, "rpi-devkit", true, false},
		{"misspelt key", `{"board": "BN5500", "duplicate_windw": "1s"}`, nil, "BN5500", true, true},
		{"bad value", `{"board": "BN5500", "duplicate_window": "soon"}`, nil, "BN5500", true, true},
		{"board not a string", `{"board": 5, "nosuch": 1}`, nil, "sim", true, true},
		{"no board key", `{"nosuch": 1}`, nil, "sim", true, true},
		{"not JSON", `{"board": "BN5500"`, nil, "sim", false, true},
		{"an array", `["BN5500"]`, nil, "sim", false, true},
		{"not JSON, --board given", `{`, []string{"--board", "JR2000"}, "JR2000", true, true},
		{"flag over the file", `{"board": "BN5500", "x": 1}`, []string{"--board", "JR2000"}, "JR2000", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fl, err := parseFlags(append([]string{"--config", oosConfig(t, tc.body), "--state-dir", t.TempDir(), "--out-of-service"}, tc.args...))
			if err != nil {
				t.Fatal(err)
			}
			fc, known, err := outOfServiceConfig(fl)
			if fc.Board != tc.board || known != tc.known || (err != nil) != tc.err {
				t.Errorf("board %q known %v err %v; want %q %v error=%v", fc.Board, known, err, tc.board, tc.known, tc.err)
			}
		})
	}
	fl, err := parseFlags([]string{"--config", filepath.Join(t.TempDir(), "missing.json"), "--out-of-service"})
	if err != nil {
		t.Fatal(err)
	}
	if _, known, err := outOfServiceConfig(fl); known || err == nil {
		t.Errorf("a missing config: known %v err %v; want unknown and the error", known, err)
	}
}

func TestRetryInFlag(t *testing.T) {
	for _, args := range [][]string{{"--out-of-service", "--retry-in", "0s"}, {"--out-of-service", "--retry-in", "25h"},
		{"--retry-in", "20s"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	fl, err := parseFlags([]string{"--out-of-service", "--retry-in", "20s"})
	if err != nil || fl.retryIn != 20*time.Second || !fl.outOfService {
		t.Errorf("parseFlags: %+v %v", fl, err)
	}
}

// FuzzOutOfServiceConfig: whatever the config file holds, the lenient read
// never panics, and when the agent's own read accepts the file the mode
// opens the board the agent would.
func FuzzOutOfServiceConfig(f *testing.F) {
	for _, s := range []string{`{"board":"sim"}`, `{"board":"BN5500","nosuch":1}`, `{"board":5}`, `{"board":"sim",`,
		`[]`, `null`, ``, `{"board":null,"board_file":"x","sim_socket":["a"],"state_dir":"/tmp/x"}`, `{"board":"\u0000"}`,
		`{"console":"stdio","console_speed":"fast","console_lockout":"1m","nosuch":1}`, `{"console":5,"console_passcode_hash":"x"}`} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	cfg := filepath.Join(dir, "timeclockd.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(cfg, b, 0o600); err != nil {
			t.Fatal(err)
		}
		fl, err := parseFlags([]string{"--config", cfg, "--state-dir", dir, "--out-of-service"})
		if err != nil {
			t.Fatal(err)
		}
		fc, known, err := outOfServiceConfig(fl)
		cf := faultConsoleFile(fl, fc, err)
		if full, ferr := loadConfig(fl); ferr == nil {
			if err != nil || !known || fc.Board != full.Board || fc.Console != full.Console || cf != full.consoleFile {
				t.Fatalf("the agent loads board %q console %q %+v; the mode: %q %q %+v known %v err %v",
					full.Board, full.Console, full.consoleFile, fc.Board, fc.Console, cf, known, err)
			}
		} else if err == nil {
			t.Fatal("the agent refuses the config, the mode reports no error")
		}
	})
}

// The technician's console on the config's port (read leniently from a
// config the agent refuses) answers status with the reason and the retry,
// and says the agent is not running for what needs it.
func TestOutOfServiceConsole(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	sock := filepath.Join(t.TempDir(), "sim.sock")
	cfg := oosConfig(t, fmt.Sprintf(`{"board": "sim", "sim_socket": %q, "console": "stdio", "duplicate_windw": "0s"}`, sock))
	cmd, in, out, done := startStdio(t, bin, "--config", cfg, "--state-dir", t.TempDir(), "--console-no-login", "--out-of-service")
	daemontest.DialSim(t, sock, e2eTimeout).WaitScreen("Out of service", e2eTimeout)
	io.WriteString(in, "\n")
	await.True(t, e2eTimeout, func() bool { return strings.Contains(out.String(), "timeclock> ") }, "no prompt:\n%s", out)
	io.WriteString(in, "status\n")
	await.True(t, e2eTimeout, func() bool { return strings.Contains(out.String(), "agent=stopped") }, "no status:\n%s", out)
	for _, want := range []string{"state=out-of-service", "reason=config ", "duplicate_windw", "retry_in=", "retry_at=", "model=sim"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status has no %q:\n%s", want, out)
		}
	}
	for _, c := range []string{"punches pending", "update status"} {
		n := strings.Count(out.String(), "the agent is not running")
		io.WriteString(in, c+"\n")
		await.True(t, e2eTimeout, func() bool { return strings.Count(out.String(), "the agent is not running") > n },
			"%s does not say the agent is not running:\n%s", c, out)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, out)
		}
	case <-time.After(e2eTimeout):
		t.Fatalf("no exit after SIGTERM:\n%s", out)
	}
}

// A config left empty (a power cut after an edit that was not synced)
// names no board; the mode shows on the board the agent last ran with,
// which the agent remembers in the state directory at its start.
func TestOutOfServiceEmptyConfigUsesTheLastBoard(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	state := t.TempDir()
	sock := filepath.Join(t.TempDir(), "sim.sock")
	cfg := oosConfig(t, fmt.Sprintf(`{"board": "sim", "sim_socket": %q}`, sock))
	agent := daemontest.Start(t, bin, "--config", cfg, "--state-dir", state)
	daemontest.DialSim(t, sock, e2eTimeout).WaitScreen("Badge or PIN", e2eTimeout)
	agent.Cmd.Process.Signal(syscall.SIGTERM)
	if err := agent.Wait(t, e2eTimeout); err != nil {
		t.Fatalf("agent exit: %v", err)
	}
	lb, err := readLastBoard(state)
	if err != nil || lb.Board != "sim" || lb.SimSocket != sock {
		t.Fatalf("the agent remembered %+v, %v; want board sim and its socket", lb, err)
	}
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := daemontest.Start(t, bin, "--config", cfg, "--state-dir", state, "--out-of-service")
	s := daemontest.DialSim(t, sock, e2eTimeout)
	s.WaitScreen("Out of service", e2eTimeout)
	if r := fmt.Sprint(s.OK("status")["reason"]); !strings.Contains(r, "the board the agent last ran with") {
		t.Errorf("reason %q does not say the board is the one last run", r)
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := p.Wait(t, e2eTimeout); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

// The retry's wall time is shown only when the wall clock can be believed:
// on a clock below the build time (no RTC battery, after a power cut) it
// says unknown; the countdown runs on the monotonic clock either way.
func TestRetryAtText(t *testing.T) {
	at, build := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC), time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := retryAtText(at, build); got != "2031-05-06T07:08:09Z" {
		t.Errorf("a set clock: %q", got)
	}
	if got := retryAtText(at, time.Time{}); got != "2031-05-06T07:08:09Z" {
		t.Errorf("a set clock, no build time: %q", got)
	}
	for _, at := range []time.Time{time.Unix(300, 0), clock.MinValid.Add(-time.Hour), build.Add(-24 * time.Hour)} {
		if got := retryAtText(at, build); got != "unknown (the clock is not set)" {
			t.Errorf("%v: %q, want unknown", at, got)
		}
	}
}
