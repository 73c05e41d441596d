package update

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/wire"
)

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

// layout makes slots a (v1) and b (v2) with current -> active and the
// state st.
func layout(t *testing.T, active string, st State) string {
	t.Helper()
	dir := t.TempDir()
	sl := SlotsIn(dir)
	for _, s := range []string{"a", "b"} {
		if err := sl.Install(s, func(w io.Writer) error { _, err := io.WriteString(w, "bin "+s); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if err := sl.Switch(active); err != nil {
		t.Fatal(err)
	}
	if err := SaveState(dir, st); err != nil {
		t.Fatal(err)
	}
	return dir
}

func trialState() State {
	return State{Phase: wire.UpdateTrial, Release: "r2", Version: "2.0", From: "1.0", Slot: "b", Previous: "a",
		TrialStart: t0, Deadline: t0.Add(15 * time.Minute), MaxStarts: 3}
}

func TestBootCheck(t *testing.T) {
	for _, c := range []struct {
		name       string
		active     string
		st         func(*State)
		now        time.Time
		wantActive string
		wantPhase  string
		wantReason string
	}{
		{"first trial start", "b", func(*State) {}, t0.Add(time.Second), "b", wire.UpdateTrial, ""},
		{"trial crashed", "b", func(s *State) { s.TrialStarts, s.LastExit = 1, "exited with status 2" }, t0.Add(time.Minute), "a", wire.UpdateRolledBack, "version 2.0 failed on trial: exited with status 2"},
		{"watchdog", "b", func(s *State) { s.TrialStarts, s.LastExit = 1, "killed by the watchdog (no ping for WatchdogSec)" }, t0.Add(time.Minute), "a", wire.UpdateRolledBack, "killed by the watchdog"},
		{"too many starts (power cuts)", "b", func(s *State) { s.TrialStarts = 3 }, t0.Add(time.Minute), "a", wire.UpdateRolledBack, "did not commit in 3 starts"},
		{"deadline passed", "b", func(s *State) { s.TrialStarts = 1 }, t0.Add(16 * time.Minute), "a", wire.UpdateRolledBack, "did not commit within 15m0s"},
		{"trial asked", "b", func(s *State) { s.Phase, s.Reason = PhaseRollback, "no commit: the cloud was not reached" }, t0.Add(time.Minute), "a", wire.UpdateRolledBack, "the cloud was not reached"},
		{"power cut before the switch", "a", func(*State) {}, t0.Add(time.Minute), "a", wire.UpdateFailed, "interrupted"},
		{"power cut while installing", "a", func(s *State) { s.Phase = wire.UpdateInstalling }, t0.Add(time.Minute), "a", wire.UpdateFailed, "interrupted"},
		{"committed stays", "b", func(s *State) { s.Phase = wire.UpdateCommitted }, t0.Add(time.Hour), "b", wire.UpdateCommitted, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := trialState()
			c.st(&st)
			dir := layout(t, c.active, st)
			if _, err := BootCheck(dir, c.now); err != nil {
				t.Fatal(err)
			}
			got, _ := LoadState(dir)
			active, _ := SlotsIn(dir).Active()
			if active != c.wantActive || got.Phase != c.wantPhase || !strings.Contains(got.Reason, c.wantReason) {
				t.Fatalf("active %s phase %s reason %q; want %s %s %q", active, got.Phase, got.Reason, c.wantActive, c.wantPhase, c.wantReason)
			}
			if c.wantPhase == wire.UpdateTrial && got.TrialStarts != st.TrialStarts+1 {
				t.Fatalf("trial starts %d, want %d", got.TrialStarts, st.TrialStarts+1)
			}
			if c.wantPhase == wire.UpdateRolledBack && got.Reported {
				t.Fatal("a rollback is reported by the previous version: Reported must start false")
			}
		})
	}
}

func TestBootCheckCountsPowerCutsToRollback(t *testing.T) {
	dir := layout(t, "b", trialState())
	for i := 1; i <= 3; i++ {
		if _, err := BootCheck(dir, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
		if a, _ := SlotsIn(dir).Active(); a != "b" {
			t.Fatalf("start %d: rolled back early", i)
		}
	}
	msg, _ := BootCheck(dir, t0.Add(5*time.Second))
	if a, _ := SlotsIn(dir).Active(); a != "a" || !strings.Contains(msg, "3 starts") {
		t.Fatalf("after 3 starts without commit: active %s, %q", a, msg)
	}
}

func TestRecordStop(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SERVICE_RESULT": "exit-code", "EXIT_CODE": "exited", "EXIT_STATUS": "2"}, "exited with status 2"},
		{map[string]string{"SERVICE_RESULT": "watchdog", "EXIT_CODE": "killed", "EXIT_STATUS": "ABRT"}, "watchdog"},
		{map[string]string{"SERVICE_RESULT": "signal", "EXIT_CODE": "dumped", "EXIT_STATUS": "SEGV"}, "signal SEGV"},
		{map[string]string{"SERVICE_RESULT": "success", "EXIT_CODE": "exited", "EXIT_STATUS": "0"}, ""},
		{map[string]string{"SERVICE_RESULT": "success", "EXIT_CODE": "exited", "EXIT_STATUS": "11"}, ""},
		{map[string]string{"SERVICE_RESULT": "success", "EXIT_CODE": "killed", "EXIT_STATUS": "TERM"}, ""},
	} {
		dir := layout(t, "b", trialState())
		if _, err := RecordStop(dir, func(k string) string { return c.env[k] }, []string{"10", "11"}, t0); err != nil {
			t.Fatal(err)
		}
		got, _ := LoadState(dir)
		if (c.want == "") != (got.LastExit == "") || !strings.Contains(got.LastExit, c.want) {
			t.Errorf("%v: last exit %q, want %q", c.env, got.LastExit, c.want)
		}
	}
}

// A state file written by a newer version with fields this one does not
// know still loads: versions only ever add fields.
func TestStateReadsNewerFields(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, StateFile), []byte(`{"format":1,"phase":"committed","release":"r3","from_the_future":{"x":1}}`), 0o600)
	s, err := LoadState(dir)
	if err != nil || s.Phase != wire.UpdateCommitted || s.Release != "r3" {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestEnsureBootable(t *testing.T) {
	dir := layout(t, "b", State{Phase: "idle"})
	sl := SlotsIn(dir)
	if msg, err := EnsureBootable(dir, "/nonexistent"); err != nil || msg != "" {
		t.Fatalf("a good slot: %q %v", msg, err)
	}
	os.Remove(sl.BinaryPath("b"))
	if msg, err := EnsureBootable(dir, "/nonexistent"); err != nil || !strings.Contains(msg, "switched to slot a") {
		t.Fatalf("empty current slot: %q %v", msg, err)
	}
	os.RemoveAll(sl.Dir)
	pkg := filepath.Join(t.TempDir(), "timeclockd")
	os.WriteFile(pkg, []byte("package binary"), 0o755)
	if msg, err := EnsureBootable(dir, pkg); err != nil || !strings.Contains(msg, "seeded") {
		t.Fatalf("no slots: %q %v", msg, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "slots", "current", "timeclockd")); string(b) != "package binary" {
		t.Fatalf("current binary %q", b)
	}
}

// FuzzLoadState: any state file loads or errors, never panics.
func FuzzLoadState(f *testing.F) {
	f.Add([]byte(`{"format":1,"phase":"trial","slot":"b","previous":"a","trial_starts":2}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, StateFile), b, 0o600)
		s, err := LoadState(dir)
		if err == nil && s.Phase == "" {
			t.Fatal("a loaded state has no phase")
		}
	})
}

func TestRescue(t *testing.T) {
	st := trialState()
	st.LastExit = "killed by the watchdog (no ping for WatchdogSec)"
	dir := layout(t, "b", st)
	msg, ok, err := Rescue(dir, t0.Add(time.Minute))
	got, _ := LoadState(dir)
	if a, _ := SlotsIn(dir).Active(); err != nil || !ok || a != "a" || got.Phase != wire.UpdateRolledBack || !strings.Contains(got.Reason, "watchdog") {
		t.Fatalf("rescue of a failed trial: %q %v %v; current -> %s, %+v", msg, ok, err, a, got)
	}
	// No trial: the running version's own failure; nothing to roll back.
	if _, ok, err := Rescue(layout(t, "a", State{Phase: wire.UpdateCommitted}), t0); ok || err != nil {
		t.Fatalf("rescue without a trial: %v %v", ok, err)
	}
}
