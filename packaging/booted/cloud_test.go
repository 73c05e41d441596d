package booted

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"timeclock/internal/daemontest"
	"timeclock/internal/e2e"
	"timeclock/internal/testenv"
	"timeclock/internal/tmuxtest"
	"timeclock/internal/vmtest"
)

// The reference cloud runs on the host, on loopback test ports. The guest
// knows it by this name (its /etc/hosts), at an address of the user
// network that qemu forwards, port by port, to the host's loopback: the
// production ports in the guest, the test ports on the host. restrict=on
// leaves the guest nothing else to reach, NTP included.
const (
	cloudHost = "cloud.tcvm.test"
	cloudAddr = "10.0.2.100"
)

// startCloud runs timeclock-cloud --dev on the host under the name the
// guest uses: its certificate names cloudHost, and the MQTT endpoints it
// hands clocks at activation are the production ports at cloudHost.
func startCloud(t *testing.T) *e2e.Cloud {
	return e2e.StartCloud(t, e2e.CloudOptions{Args: []string{
		"--public-host", cloudHost,
		"--mqtt-endpoint", cloudHost + ":59777",
		"--mqtt-ws-endpoint", "wss://" + cloudHost + ":59778/mqtt",
	}})
}

// cloudFwds forwards the production ports at cloudAddr to the cloud's test
// ports. The cloud keeps its ports across Restart, so the forwards hold.
func cloudFwds(c *e2e.Cloud) []vmtest.Fwd { return cloudFwdsVia(c, c.Ports.HTTPS) }

// cloudFwdsVia is cloudFwds with the guest's port 443 forwarded to https
// (a relay in front of the cloud's HTTPS port, say).
func cloudFwdsVia(c *e2e.Cloud, https int) []vmtest.Fwd {
	var f []vmtest.Fwd
	for guest, host := range map[int]int{80: c.Ports.HTTP, 443: https, 59777: c.Ports.MQTT, 59778: c.Ports.MQTTWS} {
		f = append(f, vmtest.Fwd{GuestAddr: cloudAddr, GuestPort: guest, HostPort: host})
	}
	return f
}

// guestClock is the guest's wall clock minus the host's, in ms, read
// through the command socket: the guest's reading lies between two host
// readings, so the error is at most half the round trip (returned too).
func guestClock(t *testing.T, m *vmtest.Machine) (offsetMS, errMS float64) {
	t.Helper()
	before := time.Now()
	out := m.Run(t, guestTimeout, "date +%s.%N")
	after := time.Now()
	sec, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
	if err != nil {
		t.Fatalf("guest date: %q", out)
	}
	mid := before.Add(after.Sub(before) / 2)
	return (sec - float64(mid.UnixNano())/1e9) * 1000, float64(after.Sub(before).Milliseconds()) / 2
}

// journalMono is the monotonic time (since the guest's boot) of the first
// journal line of timeclockd in this boot that contains text after from:
// a wall-clock step moves the journal's wall times, never these.
func journalMono(t *testing.T, m *vmtest.Machine, text string, from time.Duration) (time.Duration, bool) {
	t.Helper()
	out := m.Run(t, guestTimeout, "journalctl -b -q -u timeclockd -o json --output-fields=MESSAGE --no-pager")
	for _, l := range strings.Split(out, "\n") {
		var e struct {
			Mono    string `json:"__MONOTONIC_TIMESTAMP"`
			Message any    `json:"MESSAGE"`
		}
		if json.Unmarshal([]byte(l), &e) != nil {
			continue
		}
		msg, _ := e.Message.(string)
		us, err := strconv.ParseInt(e.Mono, 10, 64)
		if err != nil || !strings.Contains(msg, text) {
			continue
		}
		if d := time.Duration(us) * time.Microsecond; d > from {
			return d, true
		}
	}
	return 0, false
}

// waitGuest polls cond every half second (each try costs the guest a
// process) until it holds, failing after timeout.
func waitGuest(t *testing.T, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: "+msg, append([]any{timeout}, args...)...)
		}
		<-tick.C
	}
}

// cloudClock is the state of the cloud part of TestAppliance.
type cloudClock struct {
	// parent is TestAppliance's own T: a cloud (re)started under a step's
	// T would be killed when that step ends.
	parent   testing.TB
	c        *e2e.Cloud
	device   string
	passcode string
	sim      *daemontest.Sim
	taken    []taken // punches swiped, in order
}

type taken struct {
	name          string
	before, after time.Time // the host's clock around the accepted screen
}

// onboard gives the installed clock a fresh state and the cloud in its
// config, the machine's own clock (sim_system_clock: it sets the guest's
// clock with clock_settime, as a real board does) and its console on the
// second serial port; then it onboards through the keypad as an installer
// does, and the first acks set the guest's clock from the cloud's time.
func onboard(t *testing.T, m *vmtest.Machine, cc *cloudClock) { onboardWith(t, m, cc, nil, true) }

// onboardWith is onboard with more config keys; rtcOff: the guest booted
// with its RTC in 1970 and the onboarding must set its clock (TestAppliance).
func onboardWith(t *testing.T, m *vmtest.Machine, cc *cloudClock, extra map[string]any, rtcOff bool) {
	caPEM, err := os.ReadFile(cc.c.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(m.Share, "cloud-ca.pem"), caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"board": "sim", "duplicate_window": "0s", "feedback_time": "1s",
		"cloud_url": "https://" + cloudHost, "cloud_ca": "/etc/timeclock/cloud-ca.pem",
		"sim_system_clock": true, "console": "/dev/ttyS1",
		"sync_backoff_min": "100ms", "sync_backoff_max": "2s"}
	for k, v := range extra {
		cfg[k] = v
	}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(m.Share, "timeclockd-cloud.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if rtcOff {
		off, _ := guestClock(t, m)
		t.Logf("the guest's clock before onboarding: %.0f days off the host's (booted with its RTC at 1970-01-01)", off/86400e3)
		if math.Abs(off) < 86400e3 {
			t.Fatalf("the guest's clock is only %.0f ms off before onboarding: the test proves nothing", off)
		}
	}
	m.Run(t, guestTimeout, fmt.Sprintf(`set -e
tcvm-share
systemctl stop timeclockd
rm -rf /var/lib/timeclock/*
grep -q %[1]s /etc/hosts || echo "%[2]s %[1]s" >>/etc/hosts
install -m 644 /mnt/host/cloud-ca.pem /etc/timeclock/cloud-ca.pem
install -m 644 /mnt/host/timeclockd-cloud.json /etc/timeclock/timeclockd.json
systemctl reset-failed timeclockd; systemctl start timeclockd`, cloudHost, cloudAddr))
	cc.sim = m.DialSim(t, 3*time.Minute)
	start := time.Now()
	k := &e2e.Clock{Sim: cc.sim}
	cc.device = k.Onboard(t, cc.c)
	t.Logf("onboarded as %s in %.1f s", cc.device, time.Since(start).Seconds())
	cc.passcode = passcode(t, cc.c)
	if !rtcOff {
		return
	}
	waitGuest(t, 2*time.Minute, func() bool { return cc.sim.OK("status")["clock_source"] == "cloud" },
		"the clock never set its time from the cloud after onboarding: %v", cc.sim.OK("status"))
	off, errMS := guestClock(t, m)
	t.Logf("the guest's clock after onboarding: %+.0f ms off the host's (±%.0f ms)", off, errMS)
	if math.Abs(off) > 1000+errMS {
		t.Errorf("the guest's clock is %.0f ms off the host's after the clock set it from the cloud; want within 1 s", off)
	}
	if log := m.Run(t, guestTimeout, "journalctl -b -q -u timeclockd --no-pager | grep 'clock set ' || true"); !strings.Contains(log, "(cloud time,") {
		t.Errorf("no clock set line in the journal:\n%s", log)
	}
}

var passcodeRE = regexp.MustCompile(`(?m)^\s+(\d{10})\s*$`)

// passcode is the technician passcode of the clock just activated, from
// the activation mail: the one place it is shown.
func passcode(t *testing.T, c *e2e.Cloud) string {
	t.Helper()
	var body string
	waitGuest(t, time.Minute, func() bool {
		ms := c.Mails("added to")
		if len(ms) > 0 {
			body = ms[len(ms)-1]
		}
		return body != ""
	}, "no activation mail in the cloud's outbox")
	p := passcodeRE.FindStringSubmatch(body)
	if p == nil {
		t.Fatalf("no passcode in the activation mail")
	}
	return p[1]
}

// consoleReboot: a technician's terminal (picocom) on the host pty bridged
// to the guest's second serial port logs in, reads the time keys of status,
// and reboots the clock from the console; the VM really reboots (a new
// boot ID) and the service comes back. The cloud is down meanwhile, and the
// guest's RTC at 1970 again: the clock comes back with an unset clock.
func consoleReboot(t *testing.T, m *vmtest.Machine, cc *cloudClock) {
	testenv.Tool(t, "tmux")
	testenv.Tool(t, "picocom")
	pty := m.Console2(t)
	s := tmuxtest.Start(t, nil, "picocom -q -b 115200 "+pty)
	// Enter until the console asks: a key typed before picocom has the
	// port open is lost, as on a real terminal.
	waitGuest(t, time.Minute, func() bool {
		if strings.Contains(s.Screen(), "passcode:") {
			return true
		}
		s.Keys("Enter")
		return false
	}, "the console never asked for the passcode:\n%s", s.Screen())
	s.Literal(cc.passcode)
	s.Keys("Enter")
	s.WaitFor("Logged in.", time.Minute)
	s.Literal("status")
	s.Keys("Enter")
	scr := s.WaitFor("clock_refused=", time.Minute)
	src := regexp.MustCompile(`clock_source=(\S+)`).FindStringSubmatch(scr)
	ms := regexp.MustCompile(`clock_offset_ms=(\S+)`).FindStringSubmatch(scr)
	if src == nil || src[1] != "cloud" || ms == nil {
		t.Fatalf("console status after onboarding, want clock_source=cloud and clock_offset_ms=:\n%s", scr)
	}
	t.Logf("console status: clock_source=%s clock_offset_ms=%s", src[1], ms[1])
	if n, err := strconv.Atoi(ms[1]); err != nil || n > 1000 || n < -1000 {
		t.Errorf("console clock_offset_ms=%s after the clock was set: want a number within 1000", ms[1])
	}
	oldBoot := bootID(t, m)
	cc.c.Stop(t)
	mark := m.ConsoleMark()
	start := time.Now()
	s.Literal("reboot")
	s.Keys("Enter")
	s.WaitFor("[y/N]", time.Minute)
	s.Literal("y")
	s.Keys("Enter")
	m.WaitReboot(t, mark, start)
	if id := bootID(t, m); id == oldBoot {
		t.Fatalf("boot ID %s unchanged: the machine did not reboot", id)
	}
	cc.sim = dialIdle(t, m)
	if got := cc.sim.OK("status")["clock_source"]; got != "unset" {
		t.Errorf("clock_source=%v after a reboot at RTC 1970 with the cloud down, want unset", got)
	}
	// The boot before by its ID, not "-b -1": after make soak's hundred
	// boots "-b -1" once found no such line. journalctl can order boots
	// across rotated journal files by their entries' wall-clock times,
	// and these boots start at an RTC of 1970.
	q := fmt.Sprintf("journalctl -q -b %s -u timeclockd --no-pager", strings.ReplaceAll(oldBoot, "-", ""))
	if log := m.Run(t, guestTimeout, q+" | grep -c 'stopped for a reboot' || true"); strings.TrimSpace(log) == "0" {
		t.Errorf("the journal of the boot before (%s) does not say the agent stopped for a reboot; its last lines:\n%s\nboots:\n%s", oldBoot,
			m.Run(t, guestTimeout, q+" | tail -n 15"), m.Run(t, guestTimeout, "journalctl --list-boots --no-pager | tail -n 5"))
	}
}

func bootID(t *testing.T, m *vmtest.Machine) string {
	t.Helper()
	return strings.TrimSpace(m.Run(t, guestTimeout, "cat /proc/sys/kernel/random/boot_id"))
}

// swipe punches one of the demo roster's badges and waits for the
// accepted screen (the name), then for idle.
func (cc *cloudClock) swipe(t *testing.T, badge, name string) {
	t.Helper()
	tk := taken{name: name, before: time.Now()}
	cc.sim.OK("badge %s", badge)
	cc.sim.WaitScreen(name, time.Minute)
	tk.after = time.Now()
	cc.taken = append(cc.taken, tk)
	cc.sim.WaitScreen("Badge or PIN", time.Minute)
}

// correctedPunches: punches taken while the clock is unset (after the
// reboot, the cloud down); then the cloud comes back, the clock sets its
// time from the cloud's acks, and the punches reach the cloud corrected:
// each corrected time inside the host's window around its swipe, its
// original time in the guest's past.
func correctedPunches(t *testing.T, m *vmtest.Machine, cc *cloudClock) {
	cc.sim = dialIdle(t, m) // a connection is bound to the step that made it
	first := len(cc.taken)
	for _, p := range [][2]string{{"10002", "Grace Hopper"}, {"10003", "Alan Turing"}, {"10004", "Katherine Johnson"}} {
		cc.swipe(t, p[0], p[1])
	}
	if got := cc.sim.OK("status")["pending"]; got != float64(3) {
		t.Errorf("pending=%v with the cloud down, want 3", got)
	}
	cc.c.Restart(cc.parent)
	restarted := time.Now()
	waitGuest(t, 2*time.Minute, func() bool { return cc.sim.OK("status")["clock_source"] == "cloud" },
		"the clock never set its time after the cloud came back: %v", cc.sim.OK("status"))
	hostTook := time.Since(restarted)
	on, ok1 := journalMono(t, m, "cloud offline -> online", 0)
	set, ok2 := journalMono(t, m, "clock set ", 0)
	took := hostTook
	if ok1 && ok2 && set >= on {
		took = set - on
	}
	t.Logf("time to correct: %v from connecting to the clock set (guest's monotonic clock; %v from the cloud's restart, seen from the host)",
		took.Round(time.Millisecond), hostTook.Round(time.Millisecond))
	if took > 10*time.Second {
		t.Errorf("the clock took %v from connecting to setting its time, want < 10 s", took)
	}
	var ps []e2e.Punch
	waitGuest(t, 2*time.Minute, func() bool {
		ps = cc.c.Punches(t, cc.device)
		n := 0
		for _, p := range ps {
			if p.Corrected {
				n++
			}
		}
		return len(ps) >= len(cc.taken) && n >= 3
	}, "the cloud never had the 3 punches corrected: %+v", ps)
	worst := int64(0)
	for i, tk := range cc.taken[first:] {
		p := ps[first+i]
		if p.TimeSource != "unset" || !p.Corrected || p.CorrectedAt.IsZero() {
			t.Errorf("cloud punch %d (%s): %+v, want time_source unset, corrected", first+i, tk.name, p)
		}
		if p.OriginalTime.After(tk.before.Add(-24 * time.Hour)) {
			t.Errorf("cloud punch %d: original time %v, want the guest's unset clock (days in the past)", first+i, p.OriginalTime)
		}
		off := offBy(p.Time, tk.before, tk.after)
		worst = max(worst, off)
		if off > 1000 {
			t.Errorf("cloud punch %d (%s): corrected time %v is %d ms outside the swipe's window [%v, %v]",
				first+i, tk.name, p.Time, off, tk.before, tk.after)
		}
	}
	off, errMS := guestClock(t, m)
	t.Logf("offset after correction: guest clock %+.0f ms off the host's (±%.0f ms); corrected punches at most %d ms outside their swipe's window; status clock_offset_ms=%v",
		off, errMS, worst, cc.sim.OK("status")["clock_offset_ms"])
	if math.Abs(off) > 1000+errMS {
		t.Errorf("the guest's clock is %.0f ms off after correction, want within 1 s", off)
	}
}

// upgrade installs the next build over the running one while punches are
// pending (the cloud down): the new agent comes up with them still
// pending, and once the cloud is back every punch ever swiped is there.
func upgrade(t *testing.T, m *vmtest.Machine, cc *cloudClock, nextVersion string) {
	cc.sim = dialIdle(t, m)
	cc.c.Stop(t)
	for _, p := range [][2]string{{"10002", "Grace Hopper"}, {"10003", "Alan Turing"}} {
		cc.swipe(t, p[0], p[1])
	}
	pending := cc.sim.OK("status")["pending"]
	if pending != float64(2) {
		t.Errorf("pending=%v with the cloud down, want 2", pending)
	}
	old := mainPID(t, m)
	start := time.Now()
	m.Run(t, guestTimeout, "set -e; tcvm-share; dpkg -i /mnt/host/timeclockd-next.deb")
	waitRestarted(t, m, old, 3*time.Minute)
	t.Logf("upgraded and READY again in %.1f s", time.Since(start).Seconds())
	if v := m.Run(t, guestTimeout, "timeclockd --version; dpkg-query -W -f '${Version}' timeclockd"); strings.Count(v, nextVersion) != 2 {
		t.Errorf("after the upgrade, want version %s from the binary and dpkg:\n%s", nextVersion, v)
	}
	cc.sim = dialIdle(t, m)
	if got := cc.sim.OK("status")["pending"]; got != pending {
		t.Errorf("pending=%v after the upgrade, %v before", got, pending)
	}
	cc.c.Restart(cc.parent)
	var ps []e2e.Punch
	waitGuest(t, 2*time.Minute, func() bool {
		ps = cc.c.Punches(t, cc.device)
		return len(ps) >= len(cc.taken)
	}, "the cloud has %d punches of the %d swiped", len(ps), len(cc.taken))
	if len(ps) != len(cc.taken) {
		t.Errorf("the cloud has %d punches, %d were swiped", len(ps), len(cc.taken))
	}
	waitGuest(t, 2*time.Minute, func() bool { return cc.sim.OK("status")["pending"] == float64(0) },
		"punches still pending after the cloud came back: %v", cc.sim.OK("status"))
}

// offBy is how far t lies outside [from, to], in ms (0 inside).
func offBy(t, from, to time.Time) int64 {
	switch {
	case t.Before(from):
		return from.Sub(t).Milliseconds()
	case t.After(to):
		return t.Sub(to).Milliseconds()
	}
	return 0
}
