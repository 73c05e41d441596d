package agent

import (
	"io"
	"strings"
	"testing"
	"time"

	"timeclock/agent/console"
	"timeclock/agent/update"
)

// TestConsoleUpdateStatus: "update status" shows the slots, the running
// version and the last update's outcome with its reason.
func TestConsoleUpdateStatus(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StateDir = t.TempDir()
	cfg.Version = "2.0"
	r := newRig(t, cfg, 20, 4)
	r.waitScreen("Badge or PIN")
	ca := r.agent.Console(&fakeSystem{}).(console.UpdateReporter)

	fs, err := ca.UpdateStatus()
	if err != nil {
		t.Fatal(err)
	}
	if m := fields(fs); m["running"] != "2.0" || !strings.HasPrefix(m["slots"], "none:") || m["last_update"] != "none" {
		t.Fatalf("without slots: %v", fs)
	}

	dir := r.agent.cfg.StateDir
	sl := update.SlotsIn(dir)
	for _, s := range []string{"a", "b"} {
		if err := sl.Install(s, func(w io.Writer) error { _, err := io.WriteString(w, "bin"); return err }); err != nil {
			t.Fatal(err)
		}
	}
	sl.Switch("b")
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	update.SaveState(dir, update.State{Phase: "rolled-back", Release: "r3", Version: "3.0", From: "2.0", Slot: "a", Previous: "b",
		Reason: "version 3.0 failed on trial: exited with status 3", Switched: now, Floor: "1.0", SlotVersions: map[string]string{"a": "3.0", "b": "2.0"}})
	fs, _ = ca.UpdateStatus()
	m := fields(fs)
	for k, want := range map[string]string{"active_slot": "b", "slot_a": "3.0", "slot_b": "2.0", "phase": "rolled-back", "version": "3.0",
		"reason": "version 3.0 failed on trial: exited with status 3", "floor": "1.0", "reported": "false"} {
		if m[k] != want {
			t.Errorf("%s=%q, want %q (%v)", k, m[k], want, fs)
		}
	}
}
