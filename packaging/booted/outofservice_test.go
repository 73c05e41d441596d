package booted

import (
	"strings"
	"testing"
	"time"

	"timeclock/internal/vmtest"
)

// faultPause is the out-of-service pause the test sets with a drop-in (the
// unit's own is 5 minutes).
const faultPause = 20 * time.Second

// outOfService: a config the agent refuses (a misspelt key) makes every
// start fail; systemd gives up after its burst of starts and, outside an
// update's trial, the rescue unit starts timeclockd-fault.service: the
// out-of-service screen on the clock's own display (the sim socket), a
// badge refused with the error beep and not recorded, the journal saying
// why and when the agent is tried again. The config is fixed; after the
// pause the agent is started again by itself, says READY and takes a
// punch. The pause is shortened to faultPause by a drop-in.
func outOfService(t *testing.T, m *vmtest.Machine, p *punches) {
	dialIdle(t, m) // the agent runs, and the journal holds p.total punches
	// The installed units as systemd reads them (the binaries exist here).
	if out, code, err := m.Exec(guestTimeout, "systemd-analyze verify timeclockd.service timeclockd-rescue.service timeclockd-fault.service 2>&1"); err != nil || code != 0 || strings.Contains(out, "timeclock") {
		t.Errorf("systemd-analyze verify (exit %d, %v):\n%s", code, err, out)
	}
	m.Run(t, guestTimeout, `set -e
mkdir -p /etc/systemd/system/timeclockd-fault.service.d
printf '[Service]\nEnvironment=TIMECLOCK_RETRY_IN=`+faultPause.String()+`\n' >/etc/systemd/system/timeclockd-fault.service.d/test.conf
systemctl daemon-reload
cp /etc/timeclock/timeclockd.json /root/timeclockd.json.good
sed 's/^{/{"duplicate_windw":"0s",/' /root/timeclockd.json.good >/etc/timeclock/timeclockd.json
grep -q duplicate_windw /etc/timeclock/timeclockd.json
systemctl reset-failed timeclockd.service
systemctl --no-block restart timeclockd.service`)
	t.Cleanup(func() {
		if m.Running() {
			m.Exec(guestTimeout, "rm -rf /etc/systemd/system/timeclockd-fault.service.d; systemctl daemon-reload")
		}
	})
	broken := time.Now()

	// systemd gives up on the agent and the fault unit takes the display.
	out := waitUnits(t, m, 3*time.Minute, "timeclockd-fault", "ActiveState=active", "SubState=running")
	gaveUp := time.Since(broken)
	agent := m.Run(t, guestTimeout, "systemctl show -p ActiveState -p Result -p NRestarts timeclockd")
	if !strings.Contains(agent, "ActiveState=failed") && !strings.Contains(agent, "ActiveState=inactive") {
		t.Errorf("the agent is not stopped while the out-of-service unit runs:\n%s", agent)
	}
	if !strings.Contains(out, "StatusText=out of service, agent tried again in 0:") || !strings.Contains(out, "duplicate_windw") {
		t.Errorf("the fault unit's status does not say out of service and why:\n%s", out)
	}
	s := m.DialSim(t, time.Minute)
	scr := s.WaitScreen("Out of service", time.Minute)
	for _, want := range []string{"Use another clock", "Retry in 0:"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen %q: no %q", scr, want)
		}
	}
	if st := s.OK("status"); st["state"] != "out-of-service" || !strings.Contains(st["reason"].(string), "duplicate_windw") {
		t.Errorf("status on the sim socket %v: want state out-of-service and the config's error", st)
	}
	beeps := s.OK("leds")["beeps"].(float64)
	s.OK("badge 1000000") // W000000: on the roster, refused all the same
	deadline := time.Now().Add(time.Minute)
	for s.OK("leds")["beeps"].(float64) == beeps {
		if time.Now().After(deadline) {
			t.Fatalf("no beep for the badge on the out-of-service screen: %v", s.OK("leds"))
		}
		s.Do("wait 200 ~never~") // the socket's own bounded wait between polls
	}
	if l := s.OK("leds"); l["buzzer"] != "error" || l["red"] != true || l["green"] != false {
		t.Errorf("leds %v after the badge: want the error pattern and the red LED", l)
	}
	if got := s.Screen(); !strings.Contains(got, "Out of service") {
		t.Errorf("screen after the badge %q: want it to stay", got)
	}
	log := m.Run(t, guestTimeout, "journalctl -q -u timeclockd -u timeclockd-rescue -u timeclockd-fault --no-pager -o cat")
	for _, want := range []string{
		`unknown field \"duplicate_windw\"`,                                         // the agent's own start failure
		"the clock shows out of service and tries again (timeclockd-fault.service)", // the rescue
		"out of service: systemd gave up on the agent", "retry_at=",                 // the mode took over, and says when
		"input refused, nothing recorded",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the journal has no %q:\n%s", want, log)
		}
	}

	// The technician fixes the config; the pause ends and the agent is
	// started again by itself.
	// sync: the power cuts that follow this step must not find the config
	// empty (ext4's delayed allocation, and install does not fsync).
	m.Run(t, guestTimeout, "install -m 644 /root/timeclockd.json.good /etc/timeclock/timeclockd.json && sync")
	fixed := time.Now()
	waitUnits(t, m, faultPause+3*time.Minute, "timeclockd", "ActiveState=active", "SubState=running")
	back := time.Since(fixed)
	if fault := m.Run(t, guestTimeout, "systemctl show -p ActiveState timeclockd-fault"); !strings.Contains(fault, "ActiveState=inactive") {
		t.Errorf("the out-of-service unit still runs beside the agent:\n%s", fault)
	}
	flog := m.Run(t, guestTimeout, "journalctl -q -u timeclockd-fault --no-pager -o cat")
	if !strings.Contains(flog, "the out-of-service pause is over: starting timeclockd.service again") {
		t.Errorf("the fault unit's journal does not say it started the agent:\n%s", flog)
	}
	t.Logf("the out-of-service unit's journal:\n%s", flog)
	s = dialIdle(t, m)
	if got := s.OK("status")["pending"]; got != float64(p.total) {
		t.Errorf("status pending=%v after the out-of-service screen; %d punches were accepted (the refused badge must not count)", got, p.total)
	}
	if err := p.punch(s); err != nil {
		t.Fatalf("no punch after the agent came back: %v", err)
	}
	t.Logf("systemd gave up and the out-of-service screen was up %.1f s after the config broke; the agent was READY again %.1f s after the fix (pause %v)",
		gaveUp.Seconds(), back.Seconds(), faultPause)
}

// waitUnits polls systemctl show for unit until every want is in it, and
// returns the last output.
func waitUnits(t *testing.T, m *vmtest.Machine, timeout time.Duration, unit string, want ...string) string {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		out, _, err := m.Exec(guestTimeout, "systemctl show -p ActiveState -p SubState -p StatusText -p Result "+unit)
		ok := err == nil
		for _, w := range want {
			ok = ok && strings.Contains(out, w)
		}
		if ok {
			return out
		}
		if time.Since(start) > timeout {
			t.Fatalf("after %v %s is not %v:\n%s", timeout, unit, want, out)
		}
		<-tick.C
	}
}
