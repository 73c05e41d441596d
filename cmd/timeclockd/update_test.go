package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/agent/update"
)

// The unit's hooks: --update-stopped writes down a trial run's failure
// from systemd's environment, and --update-check then rolls back.
func TestUpdateHooks(t *testing.T) {
	dir := t.TempDir()
	sl := update.SlotsIn(dir)
	for _, s := range []string{"a", "b"} {
		if err := sl.Install(s, func(w io.Writer) error { _, err := io.WriteString(w, "#!/bin/sh\n"); return err }); err != nil {
			t.Fatal(err)
		}
	}
	sl.Switch("b")
	now := time.Now()
	update.SaveState(dir, update.State{Phase: "trial", Release: "r2", Version: "2.0", Slot: "b", Previous: "a",
		TrialStart: now, Deadline: now.Add(time.Hour), TrialStarts: 1})
	t.Setenv("SERVICE_RESULT", "exit-code")
	t.Setenv("EXIT_CODE", "exited")
	t.Setenv("EXIT_STATUS", "2")
	run := func(args ...string) {
		t.Helper()
		fl, err := parseFlags(append([]string{"--state-dir", dir, "--reboot-exit", "10"}, args...))
		if err != nil {
			t.Fatal(err)
		}
		if err := updateHook(fl); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	run("--update-stopped")
	run("--update-check")
	s, _ := update.LoadState(dir)
	if a, _ := sl.Active(); a != "a" || s.Phase != "rolled-back" || !strings.Contains(s.Reason, "exited with status 2") {
		t.Fatalf("after a failed trial run: current -> %s, %s %q", a, s.Phase, s.Reason)
	}
	// The reboot status (--reboot-exit 10) is a clean stop, not a failure.
	update.SaveState(dir, update.State{Phase: "trial", Release: "r3", Version: "3.0", Slot: "b", Previous: "a", Deadline: now.Add(time.Hour)})
	sl.Switch("b")
	t.Setenv("SERVICE_RESULT", "success")
	t.Setenv("EXIT_STATUS", "10")
	run("--update-stopped")
	run("--update-check")
	if a, _ := sl.Active(); a != "b" {
		t.Fatal("a reboot on trial was taken for a failure")
	}
}

// A config the agent refuses does not stop the hooks: a trial whose agent
// fails on a config broken meanwhile is still recorded and rolled back, and
// the rescue still rolls a trial back.
func TestUpdateHooksWithARefusedConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "timeclockd.json")
	if err := os.WriteFile(cfg, []byte(`{"board": "sim", "duplicate_windw": "0s"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if fl, err := parseFlags([]string{"--config", cfg}); err != nil {
		t.Fatal(err)
	} else if _, err := loadConfig(fl); err == nil || !strings.Contains(err.Error(), "duplicate_windw") {
		t.Fatalf("the config was not refused: %v", err)
	}
	sl := update.SlotsIn(dir)
	for _, s := range []string{"a", "b"} {
		if err := sl.Install(s, func(w io.Writer) error { _, err := io.WriteString(w, "#!/bin/sh\n"); return err }); err != nil {
			t.Fatal(err)
		}
	}
	trial := func() {
		t.Helper()
		sl.Switch("b")
		now := time.Now()
		if err := update.SaveState(dir, update.State{Phase: "trial", Release: "r2", Version: "2.0", Slot: "b", Previous: "a",
			TrialStart: now, Deadline: now.Add(time.Hour), TrialStarts: 1}); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) {
		t.Helper()
		fl, err := parseFlags(append([]string{"--config", cfg, "--state-dir", dir, "--reboot-exit", "10"}, args...))
		if err != nil {
			t.Fatal(err)
		}
		if err := updateHook(fl); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	trial()
	t.Setenv("SERVICE_RESULT", "exit-code")
	t.Setenv("EXIT_CODE", "exited")
	t.Setenv("EXIT_STATUS", "2")
	run("--update-stopped")
	run("--update-check")
	s, _ := update.LoadState(dir)
	if a, _ := sl.Active(); a != "a" || s.Phase != "rolled-back" || !strings.Contains(s.Reason, "exited with status 2") {
		t.Fatalf("with a refused config, after a failed trial run: current -> %s, %s %q", a, s.Phase, s.Reason)
	}
	trial()
	run("--update-rescue")
	if a, _ := sl.Active(); a != "a" {
		t.Fatalf("with a refused config, the rescue left current -> %s", a)
	}
}
