package booted

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"timeclock/internal/tcprelay"
	"timeclock/internal/vmtest"
)

// TestUpdate checks the over-the-air update's systemd side on a booted
// Debian (docs/updates.md): the package seeds slot a and the unit runs the
// slot the current link names; a version that exits at start and a version
// killed by the watchdog on trial are rolled back by the package's
// --update-check/--update-stopped around real restarts, with the reason;
// punches taken on the rolled-back trial stay in the journal; and a power
// cut at each step of an install leaves a clock that boots into a working
// version. This machine runs without a cloud: the slots and the state
// file are brought, step by step, to what the updater writes at each point
// of an install. The download, checks, commit and the cloud's exactly-once
// are covered on the host by agent/update's TestUpdateEndToEnd against the
// real cloud; a cloud-driven update in this tier (the guest can reach the
// host's cloud, as TestAppliance's onboarding shows) is still to do.
func TestUpdate(t *testing.T) {
	t.Parallel() // beside TestAppliance: a machine each, one vCPU each
	c := startCloud(t)
	// The guest's HTTPS (443) goes through a relay that can refuse
	// connections: an update that downloads, then cannot reach the API.
	relay := tcprelay.Start(t, fmt.Sprintf("127.0.0.1:%d", c.Ports.HTTPS))
	cc := &cloudClock{c: c, parent: t}
	m := vmtest.New(t, vmtest.FromEnv(t), vmtest.Opts{Persistent: true, GuestFwd: cloudFwdsVia(c, relay.Port())})
	version, _ := stageInstall(t, m)
	p := &punches{accepted: map[string]int{}, unseen: map[string]int{}}
	m.Boot(t)
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"Install", func(t *testing.T) { install(t, m) }},
		{"RunsFromSlot", func(t *testing.T) { runsFromSlot(t, m, version) }},
		{"ExitsAtStart", func(t *testing.T) { exitsAtStart(t, m) }},
		{"WatchdogOnTrial", func(t *testing.T) { watchdogOnTrial(t, m, p) }},
		{"PowerCutAtEachStep", func(t *testing.T) { powerCutEachStep(t, m, p) }},
		{"PackageOverUpdate", func(t *testing.T) { packageOverUpdate(t, m) }},
		{"Journal", func(t *testing.T) { checkJournal(t, m, p) }},
		{"CloudUpdates", func(t *testing.T) { cloudUpdates(t, m, cc, relay) }},
	}
	only := os.Getenv("TIMECLOCK_VM_ONLY") // while working on one step: Install and these
	for _, s := range steps {
		if only != "" && s.name != "Install" && !slices.Contains(strings.Split(only, ","), s.name) {
			continue
		}
		if !t.Run(s.name, s.run) {
			return
		}
	}
	m.Shutdown(t)
}

// updateState reads /var/lib/timeclock/update.json in the guest.
func updateState(t *testing.T, m *vmtest.Machine) map[string]any {
	t.Helper()
	out, _, err := m.Exec(guestTimeout, "cat /var/lib/timeclock/update.json 2>/dev/null || echo '{}'")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("update.json: %v\n%s", err, out)
	}
	return s
}

func activeSlot(t *testing.T, m *vmtest.Machine) string {
	return strings.TrimSpace(m.Run(t, guestTimeout, "readlink /var/lib/timeclock/slots/current"))
}

// runningExe is the binary the service's main process runs.
func runningExe(t *testing.T, m *vmtest.Machine) string {
	return strings.TrimSpace(m.Run(t, guestTimeout, "readlink /proc/$(systemctl show -p MainPID --value timeclockd)/exe"))
}

func runsFromSlot(t *testing.T, m *vmtest.Machine, version string) {
	if a := activeSlot(t, m); a != "a" {
		t.Fatalf("current -> %q after the install, want a", a)
	}
	if exe := runningExe(t, m); exe != "/var/lib/timeclock/slots/a/timeclockd" {
		t.Fatalf("the service runs %q, not slot a", exe)
	}
	if out := m.Run(t, guestTimeout, "/var/lib/timeclock/slots/current/timeclockd --version; stat -c '%U %a' /var/lib/timeclock/slots /var/lib/timeclock/slots/a/timeclockd"); !strings.Contains(out, "timeclockd "+version) || !strings.Contains(out, "timeclock 755\ntimeclock 755") {
		t.Fatalf("slot a:\n%s", out)
	}
	dialIdle(t, m)
}

// stageTrial puts binary (a guest path, or a script body when script) in
// slot b and writes the trial state the updater writes before its switch;
// switchLink also swaps the link as the updater's next step does.
func stageTrial(t *testing.T, m *vmtest.Machine, phase string, binary string, script bool, switchLink bool) {
	t.Helper()
	now := time.Now().UTC()
	st := map[string]any{"format": 1, "phase": phase, "release": "rvm", "version": "9.0", "from": "1.0",
		"slot": "b", "previous": "a", "trial_start": now, "deadline": now.Add(15 * time.Minute), "max_starts": 3}
	b, _ := json.Marshal(st)
	put := fmt.Sprintf("install -o timeclock -g timeclock -m 0755 %s /var/lib/timeclock/slots/b/.timeclockd.new", binary)
	if script {
		put = fmt.Sprintf("printf '%%s\\n' %s >/var/lib/timeclock/slots/b/.timeclockd.new && chown timeclock:timeclock /var/lib/timeclock/slots/b/.timeclockd.new && chmod 0755 /var/lib/timeclock/slots/b/.timeclockd.new", binary)
	}
	sw := ""
	if switchLink {
		sw = "ln -sfn b /var/lib/timeclock/slots/.current.new && chown -h timeclock:timeclock /var/lib/timeclock/slots/.current.new && mv -Tf /var/lib/timeclock/slots/.current.new /var/lib/timeclock/slots/current"
	}
	m.Run(t, guestTimeout, fmt.Sprintf(`set -e
%s
mv -f /var/lib/timeclock/slots/b/.timeclockd.new /var/lib/timeclock/slots/b/timeclockd
cat >/var/lib/timeclock/update.json.new <<'JSON'
%s
JSON
chown timeclock:timeclock /var/lib/timeclock/update.json.new && chmod 0600 /var/lib/timeclock/update.json.new
mv -f /var/lib/timeclock/update.json.new /var/lib/timeclock/update.json
%s
sync`, put, b, sw))
}

// waitPhase waits until update.json has the phase.
func waitPhase(t *testing.T, m *vmtest.Machine, phase string, timeout time.Duration) map[string]any {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		s := updateState(t, m)
		if s["phase"] == phase {
			return s
		}
		if time.Since(start) > timeout {
			t.Fatalf("update.json never reached %s: %v\n%s", phase, s, m.Run(t, guestTimeout, "journalctl -q -u timeclockd --no-pager | tail -30"))
		}
		<-tick.C
	}
}

// exitsAtStart: slot b holds a version that exits with status 3 at start.
// Real systemd runs it once, --update-stopped records the exit,
// --update-check rolls back, and slot a runs again.
func exitsAtStart(t *testing.T, m *vmtest.Machine) {
	start := time.Now()
	stageTrial(t, m, "trial", `'#!/bin/sh' 'echo version 9.0 cannot start >&2' 'exit 3'`, true, true)
	m.Run(t, guestTimeout, "systemctl restart timeclockd || true")
	s := waitPhase(t, m, "rolled-back", 3*time.Minute)
	if r, _ := s["reason"].(string); !strings.Contains(r, "exited with status 3") {
		t.Fatalf("rollback reason %q", r)
	}
	if a := activeSlot(t, m); a != "a" {
		t.Fatalf("after the rollback current -> %s", a)
	}
	dialIdle(t, m)
	if exe := runningExe(t, m); exe != "/var/lib/timeclock/slots/a/timeclockd" {
		t.Fatalf("after the rollback the service runs %q", exe)
	}
	log := m.Run(t, guestTimeout, "journalctl -q -u timeclockd --no-pager | grep 'timeclockd: update:' || true")
	for _, want := range []string{"trial of 9.0: start 1 of 3", "trial run failed: exited with status 3", "rolled back: version 9.0 failed on trial"} {
		if !strings.Contains(log, want) {
			t.Errorf("the journal lacks %q:\n%s", want, log)
		}
	}
	t.Logf("a version that exits at start: rolled back and the old one READY %.1f s after the restart", time.Since(start).Seconds())
}

// watchdogOnTrial: a trial version that runs, takes punches, then hangs;
// the watchdog kills it, and the rollback keeps its punches.
func watchdogOnTrial(t *testing.T, m *vmtest.Machine, p *punches) {
	stageTrial(t, m, "trial", "/usr/bin/timeclockd", false, true)
	old := mainPID(t, m)
	m.Run(t, guestTimeout, "systemctl restart timeclockd")
	waitRestarted(t, m, old, 3*time.Minute)
	if exe := runningExe(t, m); exe != "/var/lib/timeclock/slots/b/timeclockd" {
		t.Fatalf("the trial runs %q, not slot b", exe)
	}
	s := dialIdle(t, m)
	for range 3 {
		if err := p.punch(s); err != nil {
			t.Fatal(err)
		}
	}
	if ph := updateState(t, m)["phase"]; ph != "trial" {
		t.Fatalf("punches taken while phase=%v, not on trial", ph)
	}
	hung := mainPID(t, m)
	stopped := time.Now()
	m.Run(t, guestTimeout, "kill -STOP "+hung)
	st := waitPhase(t, m, "rolled-back", 3*time.Minute)
	if r, _ := st["reason"].(string); !strings.Contains(r, "watchdog") {
		t.Fatalf("rollback reason %q", r)
	}
	waitRestarted(t, m, hung, 3*time.Minute)
	if exe := runningExe(t, m); exe != "/var/lib/timeclock/slots/a/timeclockd" {
		t.Fatalf("after the watchdog rollback the service runs %q", exe)
	}
	s = dialIdle(t, m)
	if got := s.OK("status")["pending"]; got != float64(p.total) {
		t.Errorf("pending=%v after the rollback; %d punches were accepted (3 on trial)", got, p.total)
	}
	t.Logf("hung trial: killed by the watchdog, rolled back and READY %.1f s after SIGSTOP; reason %q", time.Since(stopped).Seconds(), st["reason"])
}

// updateCuts is the number of power cuts powerCutEachStep makes, one per
// case, each while punching: they count among the tier's power cuts.
const updateCuts = 4

// powerCutEachStep cuts the power at each point of an install, as the
// updater leaves the slots and the state there, while the clock punches,
// and checks the clock boots into a working version with the expected
// outcome.
func powerCutEachStep(t *testing.T, m *vmtest.Machine, p *punches) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	cases := []struct {
		name      string
		phase     string
		binary    string
		script    bool
		switched  bool
		wantSlot  string
		wantPhase string
	}{
		{"the slot written (installing)", "installing", "/usr/bin/timeclockd", false, false, "a", "failed"},
		{"the trial written, the link not switched", "trial", "/usr/bin/timeclockd", false, false, "a", "failed"},
		{"the link switched, not restarted", "trial", "/usr/bin/timeclockd", false, true, "b", "trial"},
		{"the link switched to a version that cannot start", "trial", `'#!/bin/sh' 'exit 3'`, true, true, "a", "rolled-back"},
	}
	if len(cases) != updateCuts {
		t.Fatalf("%d cases, updateCuts says %d", len(cases), updateCuts)
	}
	for _, c := range cases {
		s := dialIdle(t, m)
		stageTrial(t, m, c.phase, c.binary, c.script, c.switched)
		// The power goes while the clock punches, as in TestAppliance's
		// PowerCuts (these cuts count among the tier's TIMECLOCK_VM_CUTS):
		// the Journal step checks every punch whose screen was seen.
		before := p.total
		punchUntilCut(m, p, s, rng)
		t.Logf("%s: %d punches accepted before the cut", c.name, p.total-before)
		m.Boot(t)
		s = dialIdle(t, m)
		if err := p.punch(s); err != nil {
			t.Fatalf("%s: the clock does not punch after the cut: %v", c.name, err)
		}
		// A version that cannot start is rolled back after its one failed
		// run: wait for it.
		st := waitPhase(t, m, c.wantPhase, 3*time.Minute)
		if a := activeSlot(t, m); a != c.wantSlot {
			t.Fatalf("%s: after the cut current -> %s (phase %v, %v); want %s", c.name, a, st["phase"], st["reason"], c.wantSlot)
		}
		t.Logf("power cut with %s: boots into slot %s, phase %s (%v)", c.name, c.wantSlot, st["phase"], st["reason"])
		if c.wantSlot == "b" {
			// End the trial by hand: back to slot a for the next case.
			m.Run(t, guestTimeout, "systemctl stop timeclockd && ln -sfn a /var/lib/timeclock/slots/.c && chown -h timeclock:timeclock /var/lib/timeclock/slots/.c && mv -Tf /var/lib/timeclock/slots/.c /var/lib/timeclock/slots/current && rm -f /var/lib/timeclock/update.json && systemctl start timeclockd")
		}
	}
}

// packageOverUpdate: with slot b running on an update's trial, installing
// the package again (dpkg -i, as an upgrade does) puts the package's binary
// into the active slot b, leaves slot a alone, ends the trial, and the
// service runs from slot b.
func packageOverUpdate(t *testing.T, m *vmtest.Machine) {
	// Slot b: the package's binary with a byte appended (it still runs,
	// and differs from what dpkg installs).
	m.Run(t, guestTimeout, `set -e
cp /usr/bin/timeclockd /tmp/tc-b && printf x >>/tmp/tc-b`)
	stageTrial(t, m, "trial", "/tmp/tc-b", false, true)
	old := mainPID(t, m)
	m.Run(t, guestTimeout, "systemctl restart timeclockd")
	waitRestarted(t, m, old, 3*time.Minute)
	aBefore := m.Run(t, guestTimeout, "sha256sum </var/lib/timeclock/slots/a/timeclockd")
	old = mainPID(t, m)
	m.Run(t, guestTimeout, "tcvm-share && dpkg -i /mnt/host/timeclockd.deb")
	waitRestarted(t, m, old, 3*time.Minute)
	out := m.Run(t, guestTimeout, `cmp /usr/bin/timeclockd /var/lib/timeclock/slots/b/timeclockd && echo b-is-package
stat -c '%U' /var/lib/timeclock/slots/b/timeclockd
sha256sum </var/lib/timeclock/slots/a/timeclockd`)
	if !strings.Contains(out, "b-is-package\ntimeclock\n") || !strings.HasSuffix(strings.TrimSpace(out), strings.TrimSpace(aBefore)) {
		t.Fatalf("after dpkg -i: slot b is not the package's binary owned by timeclock, or slot a changed:\n%s", out)
	}
	if a := activeSlot(t, m); a != "b" {
		t.Fatalf("after dpkg -i current -> %s, want b (the active slot)", a)
	}
	if exe := runningExe(t, m); exe != "/var/lib/timeclock/slots/b/timeclockd" {
		t.Fatalf("after dpkg -i the service runs %q", exe)
	}
	if st := updateState(t, m); st["phase"] != "idle" {
		t.Fatalf("the package did not end the trial: %v", st)
	}
	dialIdle(t, m)
}
