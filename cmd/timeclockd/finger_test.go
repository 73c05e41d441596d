package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"timeclock/internal/daemontest"
)

const fingerRoster = `{"version": 1, "employees": [
  {"id": "S1", "name": "Sam Boss", "pin": "9999", "supervisor": true},
  {"id": "E1", "name": "Grace Hopper", "badges": ["10002"], "pin": "2345", "departments": ["Assembly"]},
  {"id": "E2", "name": "Alan Turing", "badges": ["10003"], "pin": "3456"}]}`

// enrollFinger walks the enrollment at the clock: the supervisor's PIN, the
// employee's badge, consent, three scans of finger.
func enrollFinger(t *testing.T, s *daemontest.Sim, badge, finger string) {
	t.Helper()
	s.WaitScreen("Badge or PIN", 10*time.Second)
	s.OK("key #")
	s.WaitScreen("Supervisor", 5*time.Second)
	for _, k := range "9999" {
		s.OK("key %c", k)
	}
	s.OK("key enter")
	s.WaitScreen("Enroll finger", 5*time.Second)
	s.OK("badge %s", badge)
	s.WaitScreen("consents to a", 5*time.Second)
	s.OK("key enter")
	s.WaitScreen("Place finger", 5*time.Second)
	s.OK("finger %s", finger)
	s.WaitScreen("Again 2/3", 5*time.Second)
	s.OK("finger %s", finger)
	s.WaitScreen("Again 3/3", 5*time.Second)
	s.OK("finger %s", finger)
}

// TestFingerprintOnTheSim: enrollment at the clock, punching by finger,
// an unknown finger, a finger enrolled to someone else refused; nothing
// biometric in the log or the state file. It measures placing a finger to
// the accepted screen.
func TestFingerprintOnTheSim(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	sock := filepath.Join(dir, "sim.sock")
	rosterFile := filepath.Join(dir, "roster.json")
	if err := os.WriteFile(rosterFile, []byte(fingerRoster), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, map[string]any{"duplicate_window": "0s", "feedback_time": "300ms"})
	logFile := filepath.Join(dir, "timeclockd.log")
	p := daemontest.Start(t, bin, "--state-dir", dir, "--sim-socket", sock, "--roster-file", rosterFile,
		"--config", cfg, "--log-file", logFile, "--log-level", "debug")
	s := daemontest.DialSim(t, sock, 10*time.Second)

	// The finger names are the sim's stand-in for templates: they must
	// never show up outside the simulated module.
	const grace, stranger = "grace-right-thumb", "stranger-left-index"
	enrollFinger(t, s, "10002", grace)
	scr := s.WaitScreen("Enrolled", 5*time.Second)
	if !strings.Contains(scr, "Grace Hopper") {
		t.Errorf("enrolled screen:\n%s", scr)
	}
	waitLEDs(t, s, true, false, "ok")
	s.WaitScreen("Badge or PIN", 5*time.Second)

	// Punch by finger: accepted as a badge punch is.
	s.OK("finger %s", grace)
	scr = s.WaitScreen("Grace Hopper", 5*time.Second)
	if !strings.HasPrefix(scr, "IN ") || !strings.Contains(scr, "Assembly") {
		t.Errorf("accepted screen:\n%s", scr)
	}
	waitLEDs(t, s, true, false, "ok")
	s.WaitScreen("Badge or PIN", 5*time.Second)

	// An unknown finger: refused, nothing recorded.
	s.OK("finger %s", stranger)
	s.WaitScreen("Unknown finger", 5*time.Second)
	waitLEDs(t, s, false, true, "error")
	s.WaitScreen("Badge or PIN", 5*time.Second)

	// Grace's finger offered for Alan: refused at the first scan.
	s.OK("key #")
	s.WaitScreen("Supervisor", 5*time.Second)
	for _, k := range "9999" {
		s.OK("key %c", k)
	}
	s.OK("key enter")
	s.WaitScreen("Enroll finger", 5*time.Second)
	s.OK("badge 10003")
	s.WaitScreen("consents to a", 5*time.Second)
	s.OK("key enter")
	s.WaitScreen("Place finger", 5*time.Second)
	s.OK("finger %s", grace)
	s.WaitScreen("to someone else", 5*time.Second)
	s.WaitScreen("Badge or PIN", 5*time.Second)

	// A non-supervisor cannot open enrollment.
	s.OK("key #")
	s.WaitScreen("Supervisor", 5*time.Second)
	s.OK("badge 10003")
	s.WaitScreen("Not a supervisor", 5*time.Second)
	s.WaitScreen("Badge or PIN", 5*time.Second)

	// Latency: the finger placed (the control socket's "finger") to the
	// accepted screen, through the real driver and the pty.
	var took []time.Duration
	for i := 0; i < 30; i++ {
		start := time.Now()
		s.OK("finger %s", grace)
		s.WaitScreen("Grace Hopper", 5*time.Second)
		took = append(took, time.Since(start))
		s.WaitScreen("Badge or PIN", 5*time.Second)
	}
	slices.Sort(took)
	t.Logf("finger placed -> accepted screen on the sim (%d punches): median %v, p90 %v, max %v",
		len(took), took[len(took)/2], took[len(took)*9/10], took[len(took)-1])

	st := s.OK("status")
	if st["pending"] != float64(31) {
		t.Errorf("pending %v, want 31 finger punches", st["pending"])
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := p.Wait(t, 30*time.Second); err != nil {
		t.Fatalf("timeclockd exit: %v", err)
	}
	logText, _ := os.ReadFile(logFile)
	for _, l := range strings.Split(string(logText), "\n") {
		if strings.Contains(l, "fingerprint(") {
			t.Logf("module: %s", l)
		}
	}
	if !strings.Contains(string(logText), "finger enrolled") || !strings.Contains(string(logText), "finger matched") {
		t.Errorf("the log does not tell the enrollment and the matches:\n%s", logText)
	}
	state, err := os.ReadFile(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{grace, stranger} {
		for what, b := range map[string][]byte{"log file": logText, "output": []byte(p.Output()), "state file": state} {
			if bytes.Contains(b, []byte(f)) {
				t.Errorf("the %s holds the finger %q", what, f)
			}
		}
	}
}
