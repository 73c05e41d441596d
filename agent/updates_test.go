package agent

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"timeclock/agent/console"
	"timeclock/agent/update"
	"timeclock/clock"
	"timeclock/internal/await"
	"timeclock/internal/fakecloud"
	"timeclock/onboarding/identity"
	"timeclock/wire"
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

// aheadClock is the real clock read d ahead, its timers real.
type aheadClock struct {
	clock.Real
	d time.Duration
}

func (c aheadClock) Now() time.Time { return time.Now().Add(c.d) }

// TestUpdatesCheckCertificatesAtTheClocksTime: the updater's HTTPS checks
// the cloud's certificate at the time the clock keeps (the sync's time), not
// at the machine's bare system clock. The clock runs two days ahead of this
// machine, NTP-synced, and the cloud's certificate became valid a day from
// now by this machine's clock: the check-in gets through. It failed while
// the updater left the time to crypto/tls (the system clock): on a board
// back at its systemd build date after a power cut, that is a clock that
// cannot download until its time is set again.
func TestUpdatesCheckCertificatesAtTheClocksTime(t *testing.T) {
	fc := fakecloud.New(t)
	dir := t.TempDir()
	id := fc.Onboard(t, dir, "dev-ahead")
	var checkIns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wire.PathUpdateReport && r.Method == http.MethodPost {
			checkIns.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(wire.UpdateReply{})
	}))
	now := time.Now()
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{fc.CA.ServerValid(t, now.Add(24*time.Hour), now.Add(10*24*time.Hour), "127.0.0.1")}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	id.CloudURL = srv.URL
	if err := identity.NewStore(dir).Save(id); err != nil {
		t.Fatal(err)
	}
	r := cloudRigClock(t, fc, dir, aheadClock{d: 48 * time.Hour}, func(c *Config) {
		c.CloudURL = srv.URL
		c.UpdatePoll, c.UpdateRetry = Duration(time.Second), Duration(100*time.Millisecond)
	})
	r.waitScreen("Badge or PIN")
	await.True(t, 10*time.Second, func() bool { return checkIns.Load() > 0 },
		"the update check-in never reached a cloud whose certificate is valid at the clock's time; log:\n%s", r.log)
}
