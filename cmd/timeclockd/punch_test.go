package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"timeclock/internal/await"
	"timeclock/internal/daemontest"
	"timeclock/internal/punchcheck"
)

// demoRoster is the roster make run uses.
func demoRoster(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs("../../scripts/demo-roster.json")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeConfig writes a --config file.
func writeConfig(t testing.TB, dir string, cfg map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(cfg)
	p := filepath.Join(dir, "config.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitLEDs polls the sim's LEDs and last beep (the buzzer sounds off the
// punch loop, just after the screen).
func waitLEDs(t *testing.T, s *daemontest.Sim, green, red bool, buzzer string) {
	t.Helper()
	var l map[string]any
	await.True(t, 5*time.Second, func() bool {
		l = s.OK("leds")
		return l["green"] == green && l["red"] == red && l["buzzer"] == buzzer
	}, "leds %v, want green=%v red=%v buzzer=%s", l, green, red, buzzer)
}

func TestPunchFlowThroughSocket(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	sock := filepath.Join(dir, "sim.sock")
	p := daemontest.Start(t, bin, "--state-dir", dir, "--sim-socket", sock, "--roster-file", demoRoster(t))
	s := daemontest.DialSim(t, sock, 10*time.Second)
	s.WaitScreen("Badge or PIN", 10*time.Second)

	// Badge: accepted, green, ok beep.
	s.OK("badge 10002")
	scr := s.WaitScreen("Grace Hopper", 5*time.Second)
	if !strings.HasPrefix(scr, "IN ") || !strings.Contains(scr, "Assembly") {
		t.Errorf("accepted screen:\n%s", scr)
	}
	waitLEDs(t, s, true, false, "ok")
	// The same badge again: duplicate window.
	s.OK("badge 10002")
	s.WaitScreen("Already punched", 5*time.Second)
	// PIN, masked, with a department choice and F3 first.
	s.OK("key f3")
	s.WaitScreen("Punch BREAK", 5*time.Second)
	for _, k := range "1234" {
		s.OK("key %c", k)
	}
	s.WaitScreen("PIN: ****", 5*time.Second)
	if strings.Contains(s.Screen(), "1234") {
		t.Error("PIN shown in clear")
	}
	s.OK("key enter")
	s.WaitScreen("Department 1/3", 5*time.Second)
	s.OK("key down")
	s.WaitScreen("> Shipping", 5*time.Second)
	s.OK("key enter")
	scr = s.WaitScreen("BREAK ", 5*time.Second)
	if !strings.Contains(scr, "Ada Lovelace") || !strings.Contains(scr, "Shipping") {
		t.Errorf("break screen:\n%s", scr)
	}
	// Wrong PIN, unknown badge, inactive employee, Clear.
	for _, k := range []string{"9", "9", "9", "9", "enter"} {
		s.OK("key %s", k)
	}
	s.WaitScreen("Unknown PIN", 5*time.Second)
	s.OK("badge 4242")
	s.WaitScreen("Unknown badge", 5*time.Second)
	waitLEDs(t, s, false, true, "error")
	s.OK("badge 10005")
	s.WaitScreen("see manager", 5*time.Second)
	s.OK("key 5")
	s.WaitScreen("PIN: *", 5*time.Second)
	s.OK("key clear")
	s.WaitScreen("Badge or PIN", 5*time.Second)

	st := s.OK("status")
	if st["pending"] != float64(3) || st["last_used_by"] != "Ada Lovelace" || st["state"] != "idle" {
		t.Errorf("status: %v", st)
	}
	s.WaitScreen("3 pending", 5*time.Second)

	p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := p.Wait(t, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range punchcheck.Read(t, dir) {
		got = append(got, fmt.Sprintf("%d %s %s %s", p.Seq, p.Who(), p.Kind, p.Department))
	}
	want := []string{"1 E101 IN Assembly", "2 E100 BREAK Shipping", "3 badge 4242 IN "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("journal:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if out := p.Output(); strings.Contains(out, "1234") || strings.Contains(out, "9999") {
		t.Errorf("a PIN reached the log:\n%s", out)
	}
}

func TestDamagedStateFileRecovered(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	for _, tc := range []struct {
		name   string
		damage func(path string) error
		kept   int // punches of the 40 the salvage keeps
	}{
		{"garbage", func(p string) error { return os.WriteFile(p, []byte(strings.Repeat("not a database ", 1000)), 0o600) }, 0},
		{"zeroed", func(p string) error { return os.WriteFile(p, make([]byte, 32768), 0o600) }, 0},
		// Torn mid-page after the two meta pages: the last commit's pages
		// are missing.
		{"truncated", func(p string) error { return os.Truncate(p, 8192+100) }, 0},
		// The first meta page zeroed: bbolt alone would fall back to the
		// other one and lose the last commit without a word.
		{"first meta page zeroed", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt(make([]byte, 4096), 0)
			return err
		}, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sock := filepath.Join(dir, "sim.sock")
			args := []string{"--state-dir", dir, "--sim-socket", sock, "--roster-file", demoRoster(t)}
			// A real state file with punches in it first.
			p := daemontest.Start(t, bin, args...)
			s := daemontest.DialSim(t, sock, 10*time.Second)
			s.WaitScreen("Badge or PIN", 10*time.Second)
			for i := range 40 {
				s.OK("badge %d", 500+i)
				s.WaitScreen(fmt.Sprint(500+i), 5*time.Second)
			}
			p.Cmd.Process.Signal(syscall.SIGTERM)
			p.Wait(t, 10*time.Second)
			if err := tc.damage(filepath.Join(dir, "state.db")); err != nil {
				t.Fatal(err)
			}
			for range 2 { // and again: no crash loop, the notice stays
				p = daemontest.Start(t, bin, args...)
				s = daemontest.DialSim(t, sock, 10*time.Second)
				scr := s.WaitScreen("Storage recovered", 10*time.Second)
				if !strings.Contains(scr, "call service") {
					t.Errorf("screen:\n%s", scr)
				}
				s.OK("badge 10003")
				s.WaitScreen("Alan Turing", 5*time.Second)
				p.Cmd.Process.Signal(syscall.SIGTERM)
				if err := p.Wait(t, 10*time.Second); err != nil {
					t.Fatalf("exit: %v\n%s", err, p.Output())
				}
			}
			if !strings.Contains(p.Output(), "storage damaged") {
				t.Errorf("no log line:\n%s", p.Output())
			}
			aside, _ := filepath.Glob(filepath.Join(dir, "state.db.damaged-*"))
			if len(aside) != 1 {
				t.Errorf("set-aside files: %v", aside)
			}
			// The 40 punches as far as they could be read, then Alan Turing's
			// (the second start's is a duplicate within the window).
			if got := len(punchcheck.Read(t, dir)); got != tc.kept+1 {
				t.Errorf("%d punches pending, want %d salvaged + 1", got, tc.kept)
			}
		})
	}
}

func TestBadRosterFileNamesLine(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	bad := filepath.Join(dir, "roster.json")
	os.WriteFile(bad, []byte("{\"employees\": [\n {\"id\": \"E1\", \"name\": \"A\", \"pin\": \"12\"}\n]}"), 0o600)
	sock := filepath.Join(dir, "sim.sock")
	p := daemontest.Start(t, bin, "--state-dir", dir, "--sim-socket", sock, "--roster-file", bad)
	s := daemontest.DialSim(t, sock, 10*time.Second)
	s.WaitScreen("Badge or PIN", 10*time.Second)
	p.WaitOutput(t, "roster.json: roster file line 2: employees[0].pin: must be 4 to 8 digits", 5*time.Second)
}

// TestFacilityCodesThroughSocket: a roster badge with a facility code
// punches only the card with that facility code; a card number alone
// matches the card at any site.
func TestFacilityCodesThroughSocket(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	ros := filepath.Join(dir, "roster.json")
	os.WriteFile(ros, []byte(`{"version": 1, "employees": [
 {"id": "E200", "name": "Site Twelve", "badges": ["12:34567"]},
 {"id": "E201", "name": "Any Site", "badges": ["20001"]}]}`), 0o600)
	sock := filepath.Join(dir, "sim.sock")
	p := daemontest.Start(t, bin, "--state-dir", dir, "--sim-socket", sock, "--roster-file", ros)
	s := daemontest.DialSim(t, sock, 10*time.Second)
	s.WaitScreen("Badge or PIN", 10*time.Second)

	s.OK("badge 12:34567")
	s.WaitScreen("Site Twelve", 5*time.Second)
	waitLEDs(t, s, true, false, "ok")
	s.OK("badge 13:34567")
	if scr := s.WaitScreen("Unknown badge", 5*time.Second); !strings.Contains(scr, "13:34567") {
		t.Errorf("unknown badge screen:\n%s", scr)
	}
	waitLEDs(t, s, false, true, "error")
	s.OK("badge 5:20001")
	s.WaitScreen("Any Site", 5*time.Second)

	p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := p.Wait(t, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range punchcheck.Read(t, dir) {
		got = append(got, p.Who())
	}
	if want := "E200|badge 13:34567|E201"; strings.Join(got, "|") != want {
		t.Errorf("journal %q, want %q", got, want)
	}
	if out := p.Output(); !strings.Contains(out, "roster_badge=13:34567") {
		t.Errorf("the log lacks the badge's key:\n%s", out)
	}
}

func TestCollidingBadgesRosterRefused(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	bad := filepath.Join(dir, "roster.json")
	os.WriteFile(bad, []byte("{\"employees\": [\n {\"id\": \"E1\", \"name\": \"A\", \"badges\": [\"12:34567\"]},\n {\"id\": \"E2\", \"name\": \"B\", \"badges\": [\"34567\"]}\n]}"), 0o600)
	sock := filepath.Join(dir, "sim.sock")
	p := daemontest.Start(t, bin, "--state-dir", dir, "--sim-socket", sock, "--roster-file", bad)
	s := daemontest.DialSim(t, sock, 10*time.Second)
	s.WaitScreen("Badge or PIN", 10*time.Second)
	p.WaitOutput(t, "roster.json: roster file line 3: employees[1].badges[0]: badge 34567 of E2 collides with badge 12:34567 of E1", 5*time.Second)
	s.OK("badge 12:34567")
	s.WaitScreen("Unknown badge", 5*time.Second)
}

// TestReadmeFirstRunPunches follows README's first run, step 3, on the demo
// roster: Grace Hopper's badge, then Alan Turing's PIN, each accepted; the
// same person again (Grace's PIN) within the 60 s duplicate window gets
// "Already punched", as the step warns.
func TestReadmeFirstRunPunches(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	sock := filepath.Join(dir, "sim.sock")
	cfg := writeConfig(t, dir, map[string]any{"feedback_time": "300ms"})
	daemontest.Start(t, bin, "--state-dir", dir, "--sim-socket", sock, "--roster-file", demoRoster(t), "--config", cfg)
	s := daemontest.DialSim(t, sock, 10*time.Second)
	s.WaitScreen("Badge or PIN", 10*time.Second)
	pin := func(p string) {
		for _, k := range p {
			s.OK("key %c", k)
		}
		s.OK("key enter")
	}
	s.OK("badge 10002")
	if scr := s.WaitScreen("Grace Hopper", 5*time.Second); !strings.HasPrefix(scr, "IN ") {
		t.Errorf("badge 10002:\n%s", scr)
	}
	s.WaitScreen("Badge or PIN", 5*time.Second)
	pin("3456")
	if scr := s.WaitScreen("Alan Turing", 5*time.Second); !strings.HasPrefix(scr, "IN ") {
		t.Errorf("PIN 3456:\n%s", scr)
	}
	s.WaitScreen("Badge or PIN", 5*time.Second)
	pin("2345")
	s.WaitScreen("Already punched", 5*time.Second)
}
