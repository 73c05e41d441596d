package onboarding

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"timeclock/hal"
	"timeclock/onboarding/identity"
	"timeclock/onboarding/netcheck"
	"timeclock/wire"
)

var update = flag.Bool("update", false, "rewrite the golden screens in testdata/")

// screenFixtures is one model per screen an installer can meet.
func screenFixtures() []struct {
	name string
	m    Model
	now  time.Time
} {
	type fx = struct {
		name string
		m    Model
		now  time.Time
	}
	code := atCodeEntry()
	var out []fx
	add := func(name string, m Model, now time.Time) { out = append(out, fx{name, m, now}) }
	add("net_check", Model{State: StateNetCheck}, t0)
	for _, n := range []struct {
		name string
		r    netcheck.Report
	}{
		{"no cable", netcheck.Report{Steps: []netcheck.StepResult{{Step: netcheck.StepLink, Outcome: netcheck.Failed}},
			Ifaces: []netcheck.Iface{{Name: "eth0"}, {Name: "wlan0", WiFi: true}}}},
		{"no dhcp", netcheck.Report{Iface: "eth0", Steps: []netcheck.StepResult{{Step: netcheck.StepAddress, Outcome: netcheck.Failed}}}},
		{"no gateway", netcheck.Report{Iface: "eth0", Steps: []netcheck.StepResult{{Step: netcheck.StepRoute, Outcome: netcheck.Failed}}}},
		{"dns", netcheck.Report{Iface: "eth0", Target: netcheck.Target{Host: "cloud.example.com"}, Steps: []netcheck.StepResult{{Step: netcheck.StepDNS, Outcome: netcheck.Failed, Err: errors.New("timeout")}}}},
		{"port blocked", portBlocked()},
		{"cloud down", func() netcheck.Report {
			r := portBlocked()
			r.Steps[1].Outcome = netcheck.Failed
			for i := range r.Ports {
				r.Ports[i] = netcheck.PortResult{Port: r.Ports[i].Port, Refused: true, Err: syscall.ECONNREFUSED}
			}
			return r
		}()},
		{"tls", netcheck.Report{Iface: "eth0", Target: netcheck.Target{Host: "cloud.example.com", Ports: netcheck.DefaultPorts}, Steps: []netcheck.StepResult{{Step: netcheck.StepTLS, Outcome: netcheck.Failed, Err: errors.New("handshake")}}}},
	} {
		add("net_problem "+n.name, run(mc20, Model{State: StateNetCheck}, t0, NetChecked{Report: n.r}), t0)
	}
	add("lan_advice", run(mc20, Model{State: StateNetCheck}, t0, NetChecked{Report: netcheck.Report{Iface: "wlan0", WiFi: true, LANAdvice: true, Steps: okSteps}}), t0)
	add("company_entry", run(mc20, Model{State: StateCompanyEntry}, t0, digits("482913")...), t0)
	add("company_entry note", run(mc20, Model{State: StateCompanyEntry}, t0, KeyPress{Key: hal.KeyEnter}), t0)
	add("company_entry too short", run(mc20, Model{State: StateCompanyEntry}, t0, seq(digits("12"), keys(hal.KeyEnter))...), t0)
	add("company_lookup", Model{State: StateCompanyLookup, CompanyID: "482913"}, t0)
	add("company_confirm", Model{State: StateCompanyConfirm, Company: acme}, t0)
	add("code_request", Model{State: StateCodeRequest, Company: acme}, t0)
	add("code_entry", run(mc20, code, t0.Add(12*time.Second), digits("123")...), t0.Add(12*time.Second))
	add("code_entry wrong", run(mc20, code, t0, seq(digits("123456"), keys(hal.KeyEnter), []Event{Activated{Err: &wire.Error{Code: wire.ErrWrongCode, TriesLeft: 4}}})...), t0.Add(20*time.Second))
	add("code_entry resend wait", run(mc20, code, t0.Add(20*time.Second), KeyPress{Key: hal.KeyF1},
		CodeSent{Err: &wire.Error{Code: wire.ErrResendTooSoon, RetryAfter: 40}}), t0.Add(20*time.Second))
	add("code_blocked resend wait", run(mc20, code, t0.Add(20*time.Second), seq(digits("222222"), keys(hal.KeyEnter),
		[]Event{Activated{Err: &wire.Error{Code: wire.ErrCodeBurned}}}, keys(hal.KeyEnter),
		[]Event{CodeSent{Err: &wire.Error{Code: wire.ErrResendTooSoon, RetryAfter: 40}}})...), t0.Add(30*time.Second))
	help := run(mc20, code, t0.Add(time.Minute), Tick{})
	add("code_help", help, t0.Add(time.Minute))
	help.Page = 3
	add("code_help page 3", help, t0.Add(time.Minute))
	add("activating", Model{State: StateActivating}, t0)
	for _, e := range []struct {
		name string
		step State
		err  error
	}{
		{"unknown company", StateCompanyLookup, &wire.Error{Code: wire.ErrUnknownCompany}},
		{"no admins", StateCodeRequest, &wire.Error{Code: wire.ErrNoAdmins}},
		{"rate limited", StateCompanyLookup, &wire.Error{Code: wire.ErrRateLimited, RetryAfter: 90}},
		{"expired", StateActivating, &wire.Error{Code: wire.ErrCodeExpired}},
		{"burned", StateActivating, &wire.Error{Code: wire.ErrCodeBurned}},
		{"no session", StateActivating, &wire.Error{Code: wire.ErrNoSession}},
		{"disabled", StateActivating, &wire.Error{Code: wire.ErrDisabled}},
		{"unreachable", StateCodeRequest, ErrUnreachable},
		{"untrusted", StateCompanyLookup, ErrUntrusted},
		{"bad answer", StateActivating, ErrBadResponse},
	} {
		m := code
		m.State = e.step
		var ev Event = Activated{Err: e.err}
		if e.step == StateCompanyLookup {
			ev = CompanyFound{Err: e.err}
		} else if e.step == StateCodeRequest {
			ev = CodeSent{Err: e.err}
		}
		add("problem "+e.name, run(mc20, m, t0, ev), t0)
	}
	tz := run(mc20, code, t0, seq(digits("123456"), keys(hal.KeyEnter), []Event{Activated{Identity: &identity.Identity{DeviceID: "dev-1", Timezone: "America/Argentina/Buenos_Aires"}}})...)
	add("timezone_confirm", tz, t0)
	return out
}

// TestScreensGolden renders every screen on a 16x2 and a 20x4 display:
// each line fits, and the text matches testdata/screens_COLSxROWS.golden
// (go test -update rewrites them after a deliberate change).
func TestScreensGolden(t *testing.T) {
	for _, geo := range []Machine{mc16, mc20} {
		t.Run(fmt.Sprintf("%dx%d", geo.Cols, geo.Rows), func(t *testing.T) {
			var b strings.Builder
			for _, f := range screenFixtures() {
				fmt.Fprintf(&b, "== %s (%s)\n", f.name, f.m.State)
				last := max(geo.maxPage(f.m, f.now), f.m.Page)
				for p := f.m.Page; p <= last; p++ {
					m := f.m
					m.Page = p
					lines := geo.Screen(m, f.now)
					if len(lines) > geo.Rows {
						t.Errorf("%s page %d: %d lines on a %d-line display", f.name, p, len(lines), geo.Rows)
					}
					if p > f.m.Page {
						b.WriteString("-- Down\n")
					}
					for _, l := range lines {
						if n := len([]rune(l)); n > geo.Cols {
							t.Errorf("%s page %d: %q is %d wide on a %d-column display", f.name, p, l, n, geo.Cols)
						}
						fmt.Fprintf(&b, "|%-*s|\n", geo.Cols, l)
					}
				}
			}
			path := filepath.Join("testdata", fmt.Sprintf("screens_%dx%d.golden", geo.Cols, geo.Rows))
			if *update {
				os.MkdirAll("testdata", 0o755)
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(want) != b.String() {
				t.Errorf("screens differ from %s (go test -update after a deliberate change):\n%s", path, b.String())
			}
		})
	}
}
