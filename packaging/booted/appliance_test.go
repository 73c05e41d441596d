package booted

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"timeclock/internal/daemontest"
	"timeclock/internal/punchcheck"
	"timeclock/internal/vmtest"
)

// workers is the size of the test roster: employees E000000... named
// W000000... with badges 1000000+i, so each accepted screen names its punch.
const workers = 100

// guestTimeout bounds one command in the guest; generous, as a test run
// beside another on two cores slows TCG several times.
const guestTimeout = 2 * time.Minute

// TestAppliance installs the package on a booted Debian and runs the
// scenarios in order on the one machine (each boot costs 20-60 s):
// READY and the version, punching, kill -9, a hang caught by the watchdog,
// a config that makes systemd give up (the out-of-service screen, then the
// agent again by itself), then power cuts; every punch whose accepted screen was seen in any of
// them must be in the journal. Then the clock joins the reference cloud
// on the host: the machine's RTC starts at 1970-01-01 on every boot and
// nothing serves NTP, so the clock sets the time from the cloud; the
// console on the second serial port reboots the machine; punches taken on
// the unset clock reach the cloud corrected; an upgrade with punches
// pending loses none.
func TestAppliance(t *testing.T) {
	t.Parallel() // beside TestUpdate: a machine each, one vCPU each
	img := vmtest.FromEnv(t)
	c := startCloud(t)
	m := vmtest.New(t, img, vmtest.Opts{Persistent: true, RTCBase: "1970-01-01", GuestFwd: cloudFwds(c), Console2: true,
		Disks: logWritesDisks()})
	version, next := stageInstall(t, m)
	p := &punches{accepted: map[string]int{}, unseen: map[string]int{}}
	cc := &cloudClock{c: c, parent: t}
	m.Boot(t)

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"Install", func(t *testing.T) { install(t, m) }},
		{"ReadyAndVersion", func(t *testing.T) { readyAndVersion(t, m, version) }},
		{"Punch", func(t *testing.T) { punchSome(t, m, p, 5) }},
		{"Kill9", func(t *testing.T) { kill9(t, m, p) }},
		{"WatchdogHang", func(t *testing.T) { watchdogHang(t, m, p) }},
		{"OutOfService", func(t *testing.T) { outOfService(t, m, p) }},
		{"PowerCuts", func(t *testing.T) { powerCuts(t, m, p, cutsWanted(t)) }},
		{"Journal", func(t *testing.T) { checkJournal(t, m, p) }},
		{"CrashPointsLogWrites", func(t *testing.T) { crashPoints(t, m) }},
		{"OnboardSetsTime", func(t *testing.T) { onboard(t, m, cc) }},
		{"ConsoleReboot", func(t *testing.T) { consoleReboot(t, m, cc) }},
		{"CorrectedPunches", func(t *testing.T) { correctedPunches(t, m, cc) }},
		{"UpgradeWithPending", func(t *testing.T) { upgrade(t, m, cc, next) }},
	}
	t.Cleanup(func() {
		if t.Failed() && m.Running() {
			out, _, _ := m.Exec(time.Minute, "journalctl -q -b -u timeclockd --no-pager -o short-monotonic | tail -n 80")
			t.Logf("guest journal of timeclockd (last 80 lines):\n%s", out)
		}
	})
	only := os.Getenv("TIMECLOCK_VM_ONLY") // while working on one step: Install and these
	for _, s := range steps {
		if only != "" && s.name != "Install" && !slices.Contains(strings.Split(only, ","), s.name) {
			continue
		}
		if !t.Run(s.name, s.run) {
			return // later steps build on this one
		}
	}
	m.Shutdown(t)
	var boots []string
	for _, d := range m.BootTimes {
		boots = append(boots, fmt.Sprintf("%.0f", d.Seconds()))
	}
	t.Logf("boots (s): %s", strings.Join(boots, " "))
}

// cutsWanted is how many power cuts while punching TestAppliance does:
// $TIMECLOCK_VM_CUTS (make test: 5, make soak: 100; default 5) is the
// tier's total, and TestUpdate's PowerCutAtEachStep makes updateCuts of
// them (it punches until each of its cuts too), so TestAppliance does the
// rest, at least one.
func cutsWanted(t *testing.T) int {
	n := 5
	if v := os.Getenv("TIMECLOCK_VM_CUTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			t.Fatalf("TIMECLOCK_VM_CUTS=%q", v)
		}
	}
	return max(1, n-updateCuts)
}

// stageInstall puts what the guest installs into the machine's share: the
// previous build's package from $TIMECLOCK_VM_DEB_PREV, installed first,
// and the package from $TIMECLOCK_VM_DEB, the upgrade (make test-vm builds
// both with make package's script, DEB_VERSION apart), the test's config
// and roster. It returns the versions timeclockd --version must print.
func stageInstall(t *testing.T, m *vmtest.Machine) (version, next string) {
	t.Helper()
	deb, prev := os.Getenv("TIMECLOCK_VM_DEB"), os.Getenv("TIMECLOCK_VM_DEB_PREV")
	if deb == "" || prev == "" {
		t.Fatal("TIMECLOCK_VM_DEB and TIMECLOCK_VM_DEB_PREV name no packages: make test-vm builds them")
	}
	writeRoster(t, m.Share)
	cfg := map[string]any{"board": "sim", "timezone": "UTC", "duplicate_window": "0s",
		"roster_file": "/etc/timeclock/roster.json"}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(m.Share, "timeclockd.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	debVersion := func(f string) string {
		out, err := exec.Command("dpkg-deb", "-f", f, "Version").Output()
		if err != nil {
			t.Fatalf("dpkg-deb -f %s Version: %v", f, err)
		}
		return strings.TrimSpace(string(out))
	}
	version, next = debVersion(prev), debVersion(deb)
	if out, err := exec.Command("dpkg", "--compare-versions", next, "gt", version).CombinedOutput(); err != nil {
		t.Fatalf("TIMECLOCK_VM_DEB %s is no upgrade of TIMECLOCK_VM_DEB_PREV %s (%v %s)", next, version, err, out)
	}
	copyFile(t, prev, filepath.Join(m.Share, "timeclockd.deb"), 0o644)
	copyFile(t, deb, filepath.Join(m.Share, "timeclockd-next.deb"), 0o644)
	return version, next
}

// install installs the package in the guest with dpkg -i (its maintainer
// scripts enable and start the service), then gives it the test's config
// and roster and restarts it; systemctl returns once the agent said READY=1.
func install(t *testing.T, m *vmtest.Machine) {
	start := time.Now()
	m.Run(t, guestTimeout, `set -e
tcvm-share
dpkg -i /mnt/host/timeclockd.deb
install -m 644 /mnt/host/roster.json /etc/timeclock/roster.json
install -m 644 /mnt/host/timeclockd.json /etc/timeclock/timeclockd.json
systemctl restart timeclockd`)
	t.Logf("installed and started in %.1f s", time.Since(start).Seconds())
}

// readyAndVersion: systemd has the service active (Type=notify: after its
// READY=1), its status line set by the agent, and the version matches.
func readyAndVersion(t *testing.T, m *vmtest.Machine, version string) {
	out := m.Run(t, guestTimeout, "systemctl show -p Type -p ActiveState -p SubState -p StatusText -p WatchdogUSec timeclockd; timeclockd --version")
	for _, want := range []string{"Type=notify", "ActiveState=active", "SubState=running", "StatusText=idle"} {
		if !strings.Contains(out, want) {
			t.Errorf("systemctl show: no %q in\n%s", want, out)
		}
	}
	if !strings.Contains(out, "timeclockd "+version) {
		t.Errorf("timeclockd --version does not say %q:\n%s", version, out)
	}
}

// punches are what the tests saw on the clock's screen, per employee.
type punches struct {
	accepted map[string]int // punches whose accepted screen was seen
	unseen   map[string]int // sent, screen not seen (cut or killed)
	total    int
	next     int
}

// punch swipes the next worker's badge and waits for the accepted screen;
// an error means the clock went away (killed, cut) before it showed it.
func (p *punches) punch(s *daemontest.Sim) error {
	i := p.next % workers
	p.next++
	emp := fmt.Sprintf("E%06d", i)
	if _, err := s.Try("badge %d", 1_000_000+i); err != nil {
		// The swipe may have reached the clock and only its reply been
		// lost with the machine.
		p.unseen[emp]++
		return err
	}
	r, err := s.Try("wait 60000 W%06d", i)
	if err != nil || r["ok"] != true {
		p.unseen[emp]++
		if err == nil {
			err = fmt.Errorf("no accepted screen for W%06d: %v", i, r)
		}
		return err
	}
	p.accepted[emp]++
	p.total++
	return nil
}

func dialIdle(t *testing.T, m *vmtest.Machine) *daemontest.Sim {
	t.Helper()
	s := m.DialSim(t, 3*time.Minute)
	s.WaitScreen("Badge or PIN", time.Minute)
	return s
}

func punchSome(t *testing.T, m *vmtest.Machine, p *punches, n int) {
	s := dialIdle(t, m)
	for range n {
		if err := p.punch(s); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.OK("status")["pending"]; got != float64(p.total) {
		t.Errorf("status pending=%v after %d accepted punches", got, p.total)
	}
}

// mainPID is the service's main process in the guest (0: none).
func mainPID(t *testing.T, m *vmtest.Machine) string {
	t.Helper()
	return strings.TrimSpace(m.Run(t, guestTimeout, "systemctl show -p MainPID --value timeclockd"))
}

// waitRestarted waits until systemd runs a new main process (not old) and
// the service is active again, i.e. the new agent said READY=1.
func waitRestarted(t *testing.T, m *vmtest.Machine, old string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		out, _, err := m.Exec(guestTimeout, "systemctl show -p MainPID -p ActiveState -p SubState timeclockd")
		if err == nil && strings.Contains(out, "ActiveState=active") && strings.Contains(out, "SubState=running") &&
			!strings.Contains(out, "MainPID="+old+"\n") && !strings.Contains(out, "MainPID=0\n") {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("after %v systemd had not restarted the agent (pid %s before):\n%s", timeout, old, out)
		}
		<-tick.C
	}
}

// kill9: SIGKILL of the agent; systemd restarts it and every accepted punch
// is still pending.
func kill9(t *testing.T, m *vmtest.Machine, p *punches) {
	old := mainPID(t, m)
	m.Run(t, guestTimeout, "kill -9 "+old)
	d := waitRestarted(t, m, old, 3*time.Minute)
	t.Logf("restarted %.1f s after kill -9", d.Seconds())
	s := dialIdle(t, m)
	if got := s.OK("status")["pending"]; got != float64(p.total) {
		t.Errorf("status pending=%v after kill -9; %d punches were accepted", got, p.total)
	}
	for range 3 {
		if err := p.punch(s); err != nil {
			t.Fatal(err)
		}
	}
}

// watchdogHang: SIGSTOP freezes the agent; the watchdog must kill and
// restart it within WatchdogSec plus a margin.
func watchdogHang(t *testing.T, m *vmtest.Machine, p *punches) {
	wd := m.Run(t, guestTimeout, "systemctl show -p WatchdogUSec --value timeclockd")
	wdSec, err := time.ParseDuration(strings.ReplaceAll(strings.TrimSpace(wd), "min", "m"))
	if err != nil || wdSec <= 0 {
		t.Fatalf("WatchdogUSec=%q: the unit has no watchdog", wd)
	}
	old := mainPID(t, m)
	stopped := time.Now()
	m.Run(t, guestTimeout, "kill -STOP "+old)
	// Margin: RestartSec=2, the new agent's start to READY, and a run
	// beside another on two cores.
	margin := 90 * time.Second
	waitRestarted(t, m, old, wdSec+margin)
	d := time.Since(stopped)
	t.Logf("WatchdogSec=%v: the hung agent was restarted and READY %.1f s after SIGSTOP", wdSec, d.Seconds())
	log := m.Run(t, guestTimeout, "journalctl -q -u timeclockd --no-pager | grep -i watchdog || true")
	if !strings.Contains(log, "Watchdog timeout") {
		t.Errorf("the journal does not say the watchdog fired:\n%s", log)
	}
	if d < wdSec {
		t.Errorf("restarted %v after SIGSTOP, before the watchdog interval %v: not by the watchdog", d, wdSec)
	}
	s := dialIdle(t, m)
	if got := s.OK("status")["pending"]; got != float64(p.total) {
		t.Errorf("status pending=%v after the watchdog restart; %d punches were accepted", got, p.total)
	}
}

// powerCuts kills qemu at a random moment while badges are swiped, boots
// again and goes on; cut n times.
func powerCuts(t *testing.T, m *vmtest.Machine, p *punches, n int) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	before := p.total
	for k := range n {
		punchUntilCut(m, p, dialIdle(t, m), rng)
		m.Boot(t)
		if (k+1)%10 == 0 || k+1 == n {
			t.Logf("%d power cuts, %d punches accepted", k+1, p.total)
		}
	}
	if n > 0 && p.total-before < n {
		t.Fatalf("only %d punches accepted around %d power cuts: the clock did not get to work", p.total-before, n)
	}
}

// punchUntilCut swipes badges as fast as the clock takes them and kills
// qemu at a random moment 0.5-3.5 s in: ext4 commits every 5 s, so the cut
// falls inside that window, in the middle of a punch's commit or between
// two. The machine is off when it returns.
func punchUntilCut(m *vmtest.Machine, p *punches, s *daemontest.Sim, rng *rand.Rand) {
	cut := time.AfterFunc(time.Duration(500+rng.IntN(3000))*time.Millisecond, m.PowerCut)
	for m.Running() {
		if err := p.punch(s); err != nil {
			break
		}
	}
	cut.Stop()
	m.PowerCut()
}

// checkJournal stops the agent, copies its state out of the guest and
// checks every accepted punch is there, none twice, sequence numbers
// strictly increasing; and that no cut damaged the state file.
func checkJournal(t *testing.T, m *vmtest.Machine, p *punches) {
	dialIdle(t, m) // the agent came up after the last cut
	m.Run(t, guestTimeout, "systemctl stop timeclockd")
	if ls := m.Run(t, guestTimeout, "ls /var/lib/timeclock"); strings.Contains(ls, "damaged") {
		t.Errorf("a power cut damaged the state file:\n%s", ls)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "state.db"), m.ReadFile(t, "/var/lib/timeclock/state.db"), 0o600); err != nil {
		t.Fatal(err)
	}
	ps := punchcheck.Read(t, dir)
	var emps []string
	for i := range workers {
		emps = append(emps, fmt.Sprintf("E%06d", i))
	}
	punchcheck.Accepted(t, ps, emps, p.accepted, p.unseen)
	unseen := 0
	for _, n := range p.unseen {
		unseen += n
	}
	t.Logf("punches: %d accepted on screen, %d sent unseen, %d in the journal", p.total, unseen, len(ps))
	m.Run(t, guestTimeout, "systemctl start timeclockd")
}

func writeRoster(t testing.TB, dir string) {
	t.Helper()
	type emp struct {
		ID     string   `json:"id"`
		Name   string   `json:"name"`
		Badges []string `json:"badges"`
		Active bool     `json:"active"`
	}
	emps := make([]emp, workers)
	for i := range emps {
		emps[i] = emp{ID: fmt.Sprintf("E%06d", i), Name: fmt.Sprintf("W%06d", i),
			Badges: []string{strconv.Itoa(1_000_000 + i)}, Active: true}
	}
	b, err := json.Marshal(map[string]any{"version": 1, "employees": emps})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "roster.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t testing.TB, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}
