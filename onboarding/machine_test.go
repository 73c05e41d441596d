package onboarding

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"timeclock/hal"
	"timeclock/onboarding/identity"
	"timeclock/onboarding/netcheck"
	"timeclock/wire"
)

var (
	t0      = time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	mc20    = Machine{Cols: 20, Rows: 4, Ports: netcheck.DefaultPorts}
	mc16    = Machine{Cols: 16, Rows: 2, Ports: netcheck.DefaultPorts}
	acme    = wire.CompanyResponse{CompanyID: "482913", Name: "Acme Builders", Timezone: "America/Chicago"}
	okSteps = []netcheck.StepResult{{Step: netcheck.StepLink, Outcome: netcheck.OK}, {Step: netcheck.StepTLS, Outcome: netcheck.OK}}
)

// run feeds events to the machine from m at now and returns the result.
func run(mc Machine, m Model, now time.Time, evs ...Event) Model {
	for _, ev := range evs {
		// Results answer the busy step that is current.
		switch e := ev.(type) {
		case NetChecked:
			e.Seq = m.Seq
			ev = e
		case CompanyFound:
			e.Seq = m.Seq
			ev = e
		case CodeSent:
			e.Seq = m.Seq
			ev = e
		case Activated:
			e.Seq = m.Seq
			ev = e
		}
		m, _ = mc.Next(m, ev, now)
	}
	return m
}

func keys(ks ...hal.Key) []Event {
	var evs []Event
	for _, k := range ks {
		evs = append(evs, KeyPress{Key: k})
	}
	return evs
}

func digits(s string) []Event {
	var evs []Event
	for _, c := range s {
		evs = append(evs, KeyPress{Key: hal.Key(c - '0')})
	}
	return evs
}

func seq(parts ...[]Event) []Event {
	var out []Event
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func netOK() NetChecked { return NetChecked{Report: reportWith(okSteps...)} }

func reportWith(steps ...netcheck.StepResult) netcheck.Report {
	return netcheck.Report{Iface: "eth0", Steps: steps}
}

// portBlocked is a report of a network where port 59777 is dropped.
func portBlocked() netcheck.Report {
	r := reportWith(netcheck.StepResult{Step: netcheck.StepLink, Outcome: netcheck.OK},
		netcheck.StepResult{Step: netcheck.StepTCP, Outcome: netcheck.Warning})
	r.Target = netcheck.Target{Host: "cloud.example", Ports: netcheck.DefaultPorts}
	r.Ports = []netcheck.PortResult{{Port: 80, OK: true}, {Port: 443, OK: true}, {Port: 59777, Timeout: true}, {Port: 59778, OK: true}}
	return r
}

func sent(resend time.Duration) CodeSent {
	return CodeSent{Sent: CodeAnswer{
		CodeResponse: wire.CodeResponse{SessionID: "sess-1", ExpiresAt: t0.Add(10 * time.Minute), ResendAfter: t0.Add(resend), Recipients: 2},
		ServerTime:   t0,
	}}
}

func wireErr(code wire.ErrorCode, f func(*wire.Error)) error {
	e := &wire.Error{Code: code, Message: "m"}
	if f != nil {
		f(e)
	}
	return fmt.Errorf("cloudapi: x: %w", e)
}

// atCodeEntry is a model waiting for the code sent at t0.
func atCodeEntry() Model {
	m := run(mc20, Model{State: StateNetCheck, Seq: 1}, t0, seq([]Event{netOK()}, digits("482913"), keys(hal.KeyEnter),
		[]Event{CompanyFound{Company: acme}}, keys(hal.KeyEnter), []Event{sent(time.Minute)})...)
	if m.State != StateCodeEntry {
		panic("fixture not at code entry: " + m.State.String())
	}
	return m
}

func screenText(mc Machine, m Model, now time.Time) string {
	return strings.Join(mc.Screen(m, now), "\n")
}

func TestHappyPath(t *testing.T) {
	m := Model{State: StateNetCheck, Seq: 1}
	steps := []struct {
		evs    []Event
		at     time.Duration
		state  State
		screen string
	}{
		{nil, 0, StateNetCheck, "Checking the network"},
		{[]Event{netOK()}, 0, StateCompanyEntry, "Company ID"},
		{digits("482913"), 0, StateCompanyEntry, "> 482913_"},
		{keys(hal.KeyEnter), 0, StateCompanyLookup, "Looking it up"},
		{[]Event{CompanyFound{Company: acme}}, 0, StateCompanyConfirm, "Acme Builders"},
		{keys(hal.KeyEnter), 0, StateCodeRequest, "Emailing a code"},
		{[]Event{sent(time.Minute)}, 0, StateCodeEntry, "Expires in 10:00"},
		{digits("1234"), 30 * time.Second, StateCodeEntry, "Code: 1234__"},
		{digits("56"), 30*time.Second + 500*time.Millisecond, StateCodeEntry, "Expires in 9:30"},
		{keys(hal.KeyEnter), 31 * time.Second, StateActivating, "Checking the code"},
		{[]Event{Activated{Identity: &identity.Identity{DeviceID: "dev-1", Timezone: "America/Chicago"}}}, 31 * time.Second, StateTimezoneConfirm, "America/Chicago"},
		{keys(hal.KeyEnter), 31 * time.Second, StateDone, "Activated"},
	}
	for i, s := range steps {
		now := t0.Add(s.at)
		m = run(mc20, m, now, s.evs...)
		if m.State != s.state {
			t.Fatalf("step %d: state %s, want %s", i, m.State, s.state)
		}
		if scr := screenText(mc20, m, now); !strings.Contains(scr, s.screen) {
			t.Fatalf("step %d (%s): screen\n%s\nlacks %q", i, m.State, scr, s.screen)
		}
	}
	if m.Zones[m.ZoneIdx] != "America/Chicago" {
		t.Errorf("confirmed zone %q", m.Zones[m.ZoneIdx])
	}
}

func TestNetworkScreens(t *testing.T) {
	blocked := portBlocked()
	for _, tc := range []struct {
		name   string
		report netcheck.Report
		evs    []Event
		state  State
		screen string
	}{
		{"failure", reportWith(netcheck.StepResult{Step: netcheck.StepLink, Outcome: netcheck.Failed}), nil, StateNetProblem, "Enter=retry"},
		{"failure retry", reportWith(netcheck.StepResult{Step: netcheck.StepLink, Outcome: netcheck.Failed}), keys(hal.KeyEnter), StateNetCheck, "Checking"},
		{"failure back", reportWith(netcheck.StepResult{Step: netcheck.StepLink, Outcome: netcheck.Failed}), keys(hal.KeyClear), StateNetCheck, "Checking"},
		{"wifi only", netcheck.Report{Iface: "wlan0", WiFi: true, LANAdvice: true, Steps: okSteps}, nil, StateLANAdvice, "LAN suggested"},
		{"wifi go on", netcheck.Report{Iface: "wlan0", WiFi: true, LANAdvice: true, Steps: okSteps}, keys(hal.KeyEnter), StateCompanyEntry, "Company ID"},
		{"wifi recheck", netcheck.Report{Iface: "wlan0", WiFi: true, LANAdvice: true, Steps: okSteps}, keys(hal.KeyClear), StateNetCheck, "Checking"},
		{"port warning", blocked, nil, StateNetProblem, "Enter=go on"},
		{"port warning go on", blocked, keys(hal.KeyEnter), StateCompanyEntry, "Company ID"},
		{"port warning recheck", blocked, keys(hal.KeyClear), StateNetCheck, "Checking"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := run(mc20, Model{State: StateNetCheck, Seq: 1}, t0, append([]Event{NetChecked{Report: tc.report}}, tc.evs...)...)
			if m.State != tc.state {
				t.Fatalf("state %s, want %s", m.State, tc.state)
			}
			if scr := screenText(mc20, m, t0); !strings.Contains(scr, tc.screen) {
				t.Fatalf("screen\n%s\nlacks %q", scr, tc.screen)
			}
		})
	}
}

// TestWiFiThenBlockedPort: the LAN advice comes first, then the port
// warning, then the company.
func TestWiFiThenBlockedPort(t *testing.T) {
	r := portBlocked()
	r.Iface, r.WiFi, r.LANAdvice = "wlan0", true, true
	m := run(mc20, Model{State: StateNetCheck, Seq: 1}, t0, NetChecked{Report: r})
	for _, want := range []State{StateLANAdvice, StateNetProblem, StateCompanyEntry} {
		if m.State != want {
			t.Fatalf("state %s, want %s", m.State, want)
		}
		m = run(mc20, m, t0, KeyPress{Key: hal.KeyEnter})
	}
}

func TestCompanyEntryEditing(t *testing.T) {
	m := run(mc20, Model{State: StateCompanyEntry}, t0, keys(hal.KeyEnter)...)
	if m.State != StateCompanyEntry || !strings.Contains(screenText(mc20, m, t0), "ID missing") {
		t.Fatalf("empty ID: %s %q", m.State, screenText(mc20, m, t0))
	}
	m = run(mc20, m, t0, seq(digits("12345678901234"), keys(hal.KeyClear))...)
	if m.CompanyID != "12345678901" {
		t.Fatalf("ID %q: want 12 digits at most, then one cleared", m.CompanyID)
	}
	// Function keys are not digits.
	m = run(mc20, m, t0, keys(hal.KeyF1, hal.KeyStar, hal.KeyHash)...)
	if m.CompanyID != "12345678901" {
		t.Fatalf("ID %q after non-digit keys", m.CompanyID)
	}
}

// TestCompanyIDTooShort: the clock checks the ID's length itself (the rule
// is wire's, the one the cloud checks) and says it in words, instead of
// sending it and showing the cloud's refusal.
func TestCompanyIDTooShort(t *testing.T) {
	for _, mc := range []Machine{mc16, mc20} {
		m := run(mc, Model{State: StateCompanyEntry}, t0, seq(digits("12"), keys(hal.KeyEnter))...)
		if m.State != StateProblem || m.Problem.Title != "ID too short" {
			t.Fatalf("%dx%d: %s %+v, want the too-short screen without asking the cloud", mc.Cols, mc.Rows, m.State, m.Problem)
		}
		text := strings.Join(m.Problem.Text, " ")
		if !strings.Contains(text, "4 to 12 digits") || !strings.Contains(text, "You typed 2") {
			t.Errorf("text %q: want the rule and what was typed", text)
		}
		m = run(mc, m, t0, keys(hal.KeyEnter)...)
		if m.State != StateCompanyEntry || m.CompanyID != "12" {
			t.Fatalf("Enter: %s %q, want the entry with the ID kept for editing", m.State, m.CompanyID)
		}
		m = run(mc, m, t0, seq(digits("34"), keys(hal.KeyEnter))...)
		if m.State != StateCompanyLookup {
			t.Fatalf("4 digits: %s, want the lookup", m.State)
		}
	}
	if maxCompanyDigits != wire.CompanyIDMaxDigits {
		t.Errorf("the keypad takes %d digits, the cloud %d", maxCompanyDigits, wire.CompanyIDMaxDigits)
	}
}

func TestStaleResultIgnored(t *testing.T) {
	m := run(mc20, Model{State: StateCompanyEntry, Seq: 3}, t0, seq(digits("1234"), keys(hal.KeyEnter))...)
	old := m.Seq
	m = run(mc20, m, t0, seq(keys(hal.KeyClear, hal.KeyEnter))...) // cancel, ask again
	m, _ = mc20.Next(m, CompanyFound{Seq: old, Err: wireErr(wire.ErrUnknownCompany, nil)}, t0)
	if m.State != StateCompanyLookup {
		t.Fatalf("the canceled lookup's answer moved the machine to %s", m.State)
	}
}

// TestBackEverywhere: Clear goes back one step from every screen (a typed
// digit first, then the step).
func TestBackEverywhere(t *testing.T) {
	code := atCodeEntry()
	for _, tc := range []struct {
		name string
		m    Model
		want State
	}{
		{"company entry", Model{State: StateCompanyEntry}, StateNetCheck},
		{"lookup", Model{State: StateCompanyLookup, CompanyID: "1"}, StateCompanyEntry},
		{"confirm", Model{State: StateCompanyConfirm, Company: acme}, StateCompanyEntry},
		{"code request", Model{State: StateCodeRequest, Company: acme}, StateCompanyConfirm},
		{"code request with a valid code", func() Model { m := code; m.State = StateCodeRequest; return m }(), StateCodeEntry},
		{"code entry", code, StateCompanyConfirm},
		{"code help", func() Model { m := code; m.State = StateCodeHelp; return m }(), StateCodeEntry},
		{"problem", Model{State: StateProblem, Problem: Problem{Back: StateCompanyEntry}}, StateCompanyEntry},
		{"net problem", Model{State: StateNetProblem, Problem: Problem{Back: StateNetCheck}}, StateNetCheck},
		{"lan advice", Model{State: StateLANAdvice}, StateNetCheck},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(mc20, tc.m, t0.Add(time.Second), KeyPress{Key: hal.KeyClear}); got.State != tc.want {
				t.Fatalf("Clear from %s went to %s, want %s", tc.m.State, got.State, tc.want)
			}
		})
	}
	// Back from the code keeps the session: confirming again returns to it.
	m := run(mc20, code, t0.Add(time.Second), keys(hal.KeyClear, hal.KeyEnter)...)
	if m.State != StateCodeEntry || m.Session.ID != "sess-1" || !strings.Contains(screenText(mc20, m, t0), "Code was sent") {
		t.Fatalf("back and confirm: %s %q", m.State, screenText(mc20, m, t0))
	}
	// Activation cannot be canceled: the cloud may have used the code.
	if m := run(mc20, Model{State: StateActivating}, t0, KeyPress{Key: hal.KeyClear}); m.State != StateActivating {
		t.Fatalf("Clear canceled the activation")
	}
}

func TestCodeEntryRules(t *testing.T) {
	m := atCodeEntry()
	// Enter before all six digits.
	m = run(mc20, m, t0, seq(digits("123"), keys(hal.KeyEnter))...)
	if m.State != StateCodeEntry || !strings.Contains(screenText(mc20, m, t0), "Need 6 digits") {
		t.Fatalf("short code: %s %q", m.State, screenText(mc20, m, t0))
	}
	// A wrong code: tries left, the digits cleared.
	m = run(mc20, m, t0, seq(digits("456"), keys(hal.KeyEnter), []Event{Activated{Err: wireErr(wire.ErrWrongCode, func(e *wire.Error) { e.TriesLeft = 4 })}})...)
	if m.State != StateCodeEntry || m.Code != "" || !strings.Contains(screenText(mc20, m, t0), "Wrong code, 4 left") {
		t.Fatalf("wrong code: %s %q %q", m.State, m.Code, screenText(mc20, m, t0))
	}
	if s := screenText(mc16, m, t0); !strings.Contains(s, "Wrong code") || !strings.Contains(s, "4 tries left") {
		t.Fatalf("16x2 wrong code screen %q", s)
	}
	m = run(mc20, m, t0, seq(digits("111111"), keys(hal.KeyEnter), []Event{Activated{Err: wireErr(wire.ErrWrongCode, func(e *wire.Error) { e.TriesLeft = 1 })}})...)
	if !strings.Contains(screenText(mc20, m, t0), "Wrong code, 1 left") {
		t.Fatalf("last try: %q", screenText(mc20, m, t0))
	}
	// The fifth wrong code burns it: a new code is offered.
	m = run(mc20, m, t0.Add(2*time.Minute), seq(digits("222222"), keys(hal.KeyEnter), []Event{Activated{Err: wireErr(wire.ErrCodeBurned, nil)}})...)
	if m.State != StateProblem || !strings.Contains(screenText(mc20, m, t0), "Code blocked") {
		t.Fatalf("burned: %s %q", m.State, screenText(mc20, m, t0))
	}
	m = run(mc20, m, t0.Add(2*time.Minute), KeyPress{Key: hal.KeyEnter})
	if m.State != StateCodeRequest || !m.Resend {
		t.Fatalf("Enter on a burned code: %s resend=%v", m.State, m.Resend)
	}
}

// TestResendCountdown: "New code in Ns" counts down beside "Expires in",
// and the display wakes for its seconds too.
func TestResendCountdown(t *testing.T) {
	at := t0.Add(20*time.Second + 300*time.Millisecond) // between the expiry countdown's seconds
	m := run(mc20, atCodeEntry(), at, KeyPress{Key: hal.KeyF1}, CodeSent{Err: wireErr(wire.ErrResendTooSoon, func(e *wire.Error) { e.RetryAfter = 40 })})
	for _, tc := range []struct {
		after time.Duration
		want  string
	}{
		{0, "New code in 40s"},
		{10 * time.Second, "New code in 30s"},
		{39*time.Second + 500*time.Millisecond, "New code in 1s"},
	} {
		for _, mc := range []Machine{mc16, mc20} {
			now := at.Add(tc.after)
			m := run(mc, m, now, Tick{})
			if s := screenText(mc, m, now); m.State != StateCodeEntry || !strings.Contains(s, tc.want) {
				t.Errorf("%dx%d after %v: %s %q, want %q", mc.Cols, mc.Rows, tc.after, m.State, s, tc.want)
			}
		}
	}
	if s := screenText(mc20, m, at.Add(10*time.Second)); !strings.Contains(s, "Expires in 9:30") {
		t.Errorf("the expiry countdown is gone: %q", s)
	}
	if s := screenText(mc20, m, at.Add(41*time.Second)); strings.Contains(s, "New code in") {
		t.Errorf("after the wait: %q, want the countdown gone", s)
	}
	// The display wakes for the resend countdown's next second, not only the
	// expiry's.
	var marks []time.Duration
	for now := at; now.Before(at.Add(3 * time.Second)); {
		next, _ := mc20.Wake(m, now)
		marks = append(marks, next.Sub(at))
		now = next
	}
	found := false
	for _, d := range marks {
		found = found || d == time.Second
	}
	if !found {
		t.Errorf("wakes %v: none at the resend countdown's second (1s)", marks)
	}
}

// TestBlockedCodeLeavesScreen: a code burned by wrong tries cannot be typed
// any more, so a resend that comes too early waits on a screen without the
// code field, counting down to the new code.
func TestBlockedCodeLeavesScreen(t *testing.T) {
	m := atCodeEntry()
	m = run(mc20, m, t0.Add(10*time.Second), seq(digits("222222"), keys(hal.KeyEnter), []Event{Activated{Err: wireErr(wire.ErrCodeBurned, nil)}})...)
	if m.State != StateProblem || !strings.Contains(screenText(mc20, m, t0), "Code blocked") {
		t.Fatalf("burned: %s %q", m.State, screenText(mc20, m, t0))
	}
	at := t0.Add(20 * time.Second)
	m = run(mc20, m, at, KeyPress{Key: hal.KeyEnter}, CodeSent{Err: wireErr(wire.ErrResendTooSoon, func(e *wire.Error) { e.RetryAfter = 40 })})
	for _, mc := range []Machine{mc16, mc20} {
		for _, tc := range []struct {
			after time.Duration
			want  string
		}{{0, "40s"}, {10 * time.Second, "30s"}} {
			now := at.Add(tc.after)
			m := run(mc, m, now, Tick{})
			all := screenText(mc, m, now)
			for p := 1; p <= mc.maxPage(m, now); p++ {
				m.Page = p
				all += "\n" + screenText(mc, m, now)
			}
			if m.State == StateCodeEntry || strings.Contains(all, "Code:") || strings.Contains(all, "Code _") || !strings.Contains(all, "blocked") || !strings.Contains(all, "New code in "+tc.want) {
				t.Errorf("%dx%d after %v: %s %q, want the blocked screen counting down, no code field", mc.Cols, mc.Rows, tc.after, m.State, all)
			}
		}
	}
	if _, ok := mc20.Wake(m, at.Add(time.Second)); !ok {
		t.Error("the blocked screen's countdown never wakes the display")
	}
	// Enter once the wait is over asks again.
	m = run(mc20, m, at.Add(41*time.Second), KeyPress{Key: hal.KeyEnter})
	if m.State != StateCodeRequest || !m.Resend {
		t.Fatalf("Enter after the wait: %s resend=%v", m.State, m.Resend)
	}
	// Back at the company, Enter asks for a new code: the blocked one is not
	// "sent" any more.
	m = run(mc20, m, at.Add(41*time.Second), KeyPress{Key: hal.KeyClear})
	m = run(mc20, m, at.Add(41*time.Second), KeyPress{Key: hal.KeyEnter})
	if m.State != StateCodeRequest {
		t.Fatalf("confirm with a blocked code: %s, want a new code asked for", m.State)
	}
}

// TestResend: F1 asks the cloud for a new code; too early, the cloud says
// how long to wait and the code screen shows it.
func TestResend(t *testing.T) {
	m := atCodeEntry()
	m = run(mc20, m, t0.Add(20*time.Second), seq(digits("12"), keys(hal.KeyF1))...)
	if m.State != StateCodeRequest || !m.Resend || m.Session.ID != "sess-1" || m.Code != "" {
		t.Fatalf("resend: %s %v %q %q", m.State, m.Resend, m.Session.ID, m.Code)
	}
	m2 := run(mc20, m, t0.Add(20*time.Second), CodeSent{Err: wireErr(wire.ErrResendTooSoon, func(e *wire.Error) { e.RetryAfter = 40 })})
	if m2.State != StateCodeEntry || !strings.Contains(screenText(mc20, m2, t0.Add(20*time.Second)), "New code in 40s") || m2.Session.ID != "sess-1" {
		t.Fatalf("resend_too_soon: %s %q", m2.State, screenText(mc20, m2, t0.Add(20*time.Second)))
	}
	if s := screenText(mc16, m2, t0.Add(20*time.Second)); !strings.Contains(s, "New code in 40s") {
		t.Fatalf("16x2: %q", s)
	}
	m = run(mc20, m2, t0.Add(61*time.Second), KeyPress{Key: hal.KeyF1})
	if m.State != StateCodeRequest {
		t.Fatalf("second resend: %s", m.State)
	}
	// A new code: new deadlines.
	next := sent(time.Minute)
	next.Sent.SessionID = "sess-1"
	next.Sent.ServerTime = t0.Add(-9 * time.Minute) // deadlines relative to the cloud's clock
	m = run(mc20, m, t0.Add(61*time.Second), next)
	if m.State != StateCodeEntry || !strings.Contains(screenText(mc20, m, t0.Add(61*time.Second)), "New code sent") {
		t.Fatalf("after resend: %s %q", m.State, screenText(mc20, m, t0))
	}
	if got := m.Session.Expires.Sub(t0.Add(61 * time.Second)); got != 19*time.Minute {
		t.Fatalf("expires in %v, want 19m counted from the cloud's Date", got)
	}
}

func TestHelpAfterAMinute(t *testing.T) {
	m := atCodeEntry()
	at, ok := mc20.Wake(m, t0)
	if !ok || at.Sub(t0) != time.Second {
		t.Fatalf("wake %v %v, want the next countdown second", at, ok)
	}
	m = run(mc20, m, t0.Add(59*time.Second), Tick{})
	if m.State != StateCodeEntry {
		t.Fatalf("help before a minute: %s", m.State)
	}
	m = run(mc20, m, t0.Add(time.Minute), Tick{})
	if m.State != StateCodeHelp {
		t.Fatalf("no help after a minute: %s", m.State)
	}
	var all []string
	mc := mc20
	for i := 0; i <= mc.maxPage(m, t0.Add(time.Minute)); i++ {
		m.Page = i
		all = append(all, mc.Screen(m, t0.Add(time.Minute))...)
	}
	text := strings.Join(all, " ")
	for _, want := range []string{"spam", "email", "filters", "LAN", "80,", "443,", "59777,", "59778", "administrator"} {
		if !strings.Contains(text, want) {
			t.Errorf("help pages lack %q:\n%s", want, strings.Join(all, "\n"))
		}
	}
	// Paging is bounded.
	m.Page = 0
	m = run(mc20, m, t0, keys(hal.KeyUp)...)
	if m.Page != 0 {
		t.Fatalf("page %d after Up at the top", m.Page)
	}
	for range 30 {
		m = run(mc20, m, t0, KeyPress{Key: hal.KeyDown})
	}
	if m.Page != mc20.maxPage(m, t0) {
		t.Fatalf("page %d, max %d", m.Page, mc20.maxPage(m, t0))
	}
	// A digit goes straight back to the code; the help does not come again.
	m = run(mc20, m, t0.Add(61*time.Second), seq(digits("7"), keys(hal.KeyClear), []Event{Tick{}})...)
	if m.State != StateCodeEntry {
		t.Fatalf("after the help: %s", m.State)
	}
	// F1 on the help page resends.
	m.State = StateCodeHelp
	if m := run(mc20, m, t0.Add(62*time.Second), KeyPress{Key: hal.KeyF1}); m.State != StateCodeRequest || !m.Resend {
		t.Fatalf("F1 on help: %s", m.State)
	}
}

func TestCodeExpires(t *testing.T) {
	m := atCodeEntry()
	m = run(mc20, m, t0.Add(30*time.Second), digits("12")...)
	m = run(mc20, m, t0.Add(10*time.Minute), Tick{})
	if m.State != StateProblem || m.Code != "" || !strings.Contains(screenText(mc20, m, t0), "Code expired") {
		t.Fatalf("at expiry: %s %q", m.State, screenText(mc20, m, t0))
	}
	m = run(mc20, m, t0.Add(10*time.Minute), KeyPress{Key: hal.KeyEnter})
	if m.State != StateCodeRequest || !m.Resend {
		t.Fatalf("Enter after expiry: %s resend=%v", m.State, m.Resend)
	}
}

// TestCloudFailures: every cloud failure has its own screen naming the
// cause, and Enter and Clear lead somewhere sensible.
func TestCloudFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		step  State
		err   error
		title string
		text  string
		enter State
		back  State
	}{
		{"unknown company", StateCompanyLookup, wireErr(wire.ErrUnknownCompany, nil), "Unknown company", "No company has the ID 482913", StateCompanyEntry, StateCompanyEntry},
		{"company ID malformed", StateCompanyLookup, wireErr(wire.ErrBadRequest, func(e *wire.Error) { e.Message = "company_id: want 4 to 12 digits\x00" }), "Invalid company ID", "want 4 to 12 digits.", StateCompanyEntry, StateCompanyEntry},
		{"bad request elsewhere", StateCodeRequest, wireErr(wire.ErrBadRequest, nil), "Cloud error", "bad_request", StateCodeRequest, StateCompanyConfirm},
		{"no admins", StateCodeRequest, wireErr(wire.ErrNoAdmins, nil), "No admin email", "administrator email", StateCodeRequest, StateCompanyConfirm},
		{"rate limited", StateCompanyLookup, wireErr(wire.ErrRateLimited, func(e *wire.Error) { e.RetryAfter = 300 }), "Too many tries", "Wait 5 minutes", StateCompanyLookup, StateCompanyEntry},
		{"unreachable", StateCodeRequest, fmt.Errorf("x: %w", errors.Join(ErrUnreachable, errors.New("refused"))), "Cloud unreachable", "59777", StateCodeRequest, StateCompanyConfirm},
		{"untrusted", StateCompanyLookup, fmt.Errorf("x: %w", ErrUntrusted), "Cloud not trusted", "CA", StateCompanyLookup, StateCompanyEntry},
		{"bad answer", StateActivating, fmt.Errorf("x: %w", ErrBadResponse), "Bad cloud answer", "proxy", StateActivating, StateCodeEntry},
		{"expired at cloud", StateActivating, wireErr(wire.ErrCodeExpired, nil), "Code expired", "new code", StateCodeRequest, StateCompanyConfirm},
		{"burned", StateActivating, wireErr(wire.ErrCodeBurned, nil), "Code blocked", "wrong codes", StateCodeRequest, StateCompanyConfirm},
		{"no session", StateActivating, wireErr(wire.ErrNoSession, nil), "Setup expired", "new code", StateCodeRequest, StateCompanyConfirm},
		{"bad csr", StateActivating, wireErr(wire.ErrBadCSR, nil), "Activation failed", "certificate request", StateActivating, StateCodeEntry},
		{"disabled", StateActivating, wireErr(wire.ErrDisabled, nil), "Clock disabled", "administrator disabled", StateCompanyConfirm, StateCompanyConfirm},
		{"internal", StateCompanyLookup, wireErr(wire.ErrInternal, nil), "Cloud error", "internal", StateCompanyLookup, StateCompanyEntry},
		{"save", StateActivating, fmt.Errorf("%w: disk full", ErrSave), "Storage error", "save", StateActivating, StateCodeEntry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := atCodeEntry()
			m.State = tc.step
			var ev Event
			switch tc.step {
			case StateCompanyLookup:
				ev = CompanyFound{Err: tc.err}
			case StateCodeRequest:
				ev = CodeSent{Err: tc.err}
			default:
				ev = Activated{Err: tc.err}
			}
			m = run(mc20, m, t0.Add(2*time.Minute), ev)
			if m.State != StateProblem || m.Problem.Title != tc.title {
				t.Fatalf("state %s title %q, want problem %q", m.State, m.Problem.Title, tc.title)
			}
			if !strings.Contains(strings.Join(m.Problem.Text, " "), tc.text) {
				t.Errorf("text %q lacks %q", m.Problem.Text, tc.text)
			}
			if m.Problem.Enter != tc.enter || m.Problem.Back != tc.back {
				t.Errorf("enter %s back %s, want %s %s", m.Problem.Enter, m.Problem.Back, tc.enter, tc.back)
			}
			// The title is on both displays' first screen.
			for _, mc := range []Machine{mc20, mc16} {
				s := strings.Fields(screenText(mc, m, t0))
				if !strings.HasPrefix(strings.Join(s, " "), tc.title) {
					t.Errorf("%dx%d screen %q does not start with the title", mc.Cols, mc.Rows, s)
				}
			}
		})
	}
}

// TestResume: after a reboot the clock checks the network, then resumes
// at the code while it is valid, else at the company confirm.
func TestResume(t *testing.T) {
	saved := progress{Version: 1, State: "code_entry", CompanyID: acme.CompanyID, Company: &acme,
		Session: &savedSession{ID: "sess-1", Recipients: 1, ExpiresAt: t0.Add(10 * time.Minute)}}
	withTime := func(cloud, local time.Time) NetChecked {
		r := reportWith(okSteps...)
		r.CloudTime, r.LocalTime = cloud, local
		return NetChecked{Report: r}
	}
	for _, tc := range []struct {
		name  string
		now   time.Time
		net   NetChecked
		state State
		left  string
	}{
		{"code still valid", t0.Add(3 * time.Minute), netOK(), StateCodeEntry, "7:00"},
		{"code expired", t0.Add(11 * time.Minute), netOK(), StateCompanyConfirm, ""},
		// A clock without RTC boots in 1970: the cloud's time says how
		// much is left.
		{"unset clock, cloud time", time.Unix(100, 0), withTime(t0.Add(4*time.Minute), time.Unix(100, 0)), StateCodeEntry, "6:00"},
		{"unset clock, no cloud time", time.Unix(100, 0), netOK(), StateCompanyConfirm, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := saved.apply(Model{State: StateNetCheck, Seq: 1})
			m = run(mc20, m, tc.now, tc.net)
			if m.State != tc.state {
				t.Fatalf("resumed at %s, want %s", m.State, tc.state)
			}
			if tc.left != "" && !strings.Contains(screenText(mc20, m, tc.now), "Expires in "+tc.left) {
				t.Fatalf("screen %q, want %s left", screenText(mc20, m, tc.now), tc.left)
			}
			if tc.state == StateCompanyConfirm && (m.Session.ID != "" || !strings.Contains(screenText(mc20, m, tc.now), "Acme")) {
				t.Fatalf("expired session kept or company lost: %+v", m)
			}
		})
	}
}

func TestTimezoneConfirm(t *testing.T) {
	m := atCodeEntry()
	m = run(mc20, m, t0, seq(digits("123456"), keys(hal.KeyEnter))...)
	m = run(mc20, m, t0, Activated{Identity: &identity.Identity{DeviceID: "dev-1", Timezone: "America/Chicago"}})
	if !strings.Contains(screenText(mc20, m, t0), "Local time 08:00") {
		t.Fatalf("screen %q", screenText(mc20, m, t0))
	}
	m = run(mc20, m, t0, keys(hal.KeyDown)...)
	if m.Zones[m.ZoneIdx] != "America/New_York" {
		t.Fatalf("zone after Chicago %q, want the US zones east to west", m.Zones[m.ZoneIdx])
	}
	m = run(mc20, m, t0, keys(hal.KeyDown)...)
	if m.Zones[m.ZoneIdx] != "America/Denver" {
		t.Fatalf("zone %q", m.Zones[m.ZoneIdx])
	}
	m = run(mc20, m, t0, keys(hal.KeyUp, hal.KeyUp, hal.KeyUp)...)
	if m.Zones[m.ZoneIdx] != "Pacific/Auckland" {
		t.Fatalf("wrap-around zone %q", m.Zones[m.ZoneIdx])
	}
	m = run(mc20, m, t0, keys(hal.KeyClear)...)
	if m.Zones[m.ZoneIdx] != "America/Chicago" || m.State != StateTimezoneConfirm {
		t.Fatalf("Clear: %q %s", m.Zones[m.ZoneIdx], m.State)
	}
}

// The timezone confirm offers the company's zone, then the US zones east to
// west, then UTC, then the rest of the world: an installer scrolling from a
// US company's zone meets the likely ones first, in map order.
func TestZoneChoicesOrder(t *testing.T) {
	us := []string{"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
		"America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"}
	for _, company := range []string{"America/Chicago", "Europe/Paris", "UTC"} {
		t.Run(company, func(t *testing.T) {
			got := zoneChoices(company, nil)
			want := []string{company}
			for _, z := range append(slices.Clone(us), "UTC") {
				if z != company {
					want = append(want, z)
				}
			}
			if !slices.Equal(got[:len(want)], want) {
				t.Errorf("zones %q, want them to start %q", got, want)
			}
			seen := map[string]bool{}
			for _, z := range got {
				if seen[z] {
					t.Errorf("%s offered twice", z)
				}
				seen[z] = true
			}
		})
	}
}

func TestStateNames(t *testing.T) {
	for s := State(0); s < numStates; s++ {
		got, err := ParseState(s.String())
		if err != nil || got != s {
			t.Errorf("%d: %q -> %v %v", s, s.String(), got, err)
		}
	}
	if _, err := ParseState("idle"); err == nil {
		t.Error("unknown name parsed")
	}
	if State(200).String() != "State(200)" {
		t.Error(State(200).String())
	}
}

var _ = netip.Addr{}
