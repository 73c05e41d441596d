package onboarding

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"timeclock/clock"
	"timeclock/hal"
	"timeclock/onboarding/cloudapi"
	"timeclock/onboarding/identity"
	"timeclock/onboarding/netcheck"
	"timeclock/wire"
)

// Rules of the flow. The cloud enforces its own (expiry, resend delay);
// these only shape the screens.
const (
	maxCompanyDigits = 12
	codeDigits       = 6
	// helpAfter is the seed's "if you do not see the email within a minute".
	helpAfter = time.Minute
)

// Machine is what the next-state function knows besides the model: the
// display geometry (to page long screens) and the cloud's ports (named in
// the help texts).
type Machine struct {
	Cols, Rows int
	Ports      netcheck.Ports
	// Zones are the timezones offered at the confirm step after the
	// company's own; nil is DefaultZones.
	Zones []string
}

// Session is a code sent by the cloud. The cloud's times are kept for a
// reboot; the device-clock deadlines are what the countdown uses, so a
// clock whose own time is unknown still counts right.
type Session struct {
	ID          string
	Recipients  int
	ExpiresAt   time.Time // cloud time
	ResendAfter time.Time // cloud time
	SentAt      time.Time // device clock when the answer came
	Expires     time.Time // device clock
	ResendAt    time.Time // device clock
}

// Model is everything the screens and the next step depend on. The typed
// code is in it but is never persisted or logged.
type Model struct {
	State State
	Seq   int // counts busy steps; a result with another Seq is stale
	Page  int // first shown line of a long screen

	Net       netcheck.Report
	OnWiFi    bool // the installer chose to go on over WiFi
	PortsOK   bool // the installer chose to go on with some ports blocked
	CompanyID string
	Company   wire.CompanyResponse
	Session   Session
	Code      string // typed digits
	Note      string // one line of feedback on an entry screen (fits 16 columns)
	Wrong     int    // after a wrong code: the tries left; 0 otherwise
	HelpShown bool
	Resend    bool // the code request replaces the session's code
	Problem   Problem

	Identity *identity.Identity // set by activation
	Zones    []string           // the zones offered; Zones[ZoneIdx] is chosen
	ZoneIdx  int
}

// Problem is a failure screen: what went wrong, what to do, and where Enter
// and Clear lead.
type Problem struct {
	Title string
	Text  []string
	Enter State  // where Enter goes (retry, resend, go on)
	Back  State  // where Clear goes
	Keys  string // the key hint, e.g. "Enter=retry"
}

// Event is an input to the machine.
type Event interface{ isEvent() }

// KeyPress is a key on the keypad.
type KeyPress struct{ Key hal.Key }

// Tick says time passed (the countdown, the one-minute help, expiry).
type Tick struct{}

// NetChecked is the network check's report.
type NetChecked struct {
	Seq    int
	Report netcheck.Report
}

// CompanyFound is the cloud's answer to the company lookup.
type CompanyFound struct {
	Seq     int
	Company wire.CompanyResponse
	Err     error
}

// CodeSent is the cloud's answer to a code request.
type CodeSent struct {
	Seq  int
	Sent cloudapi.CodeSent
	Err  error
}

// Activated is the end of activation: the saved identity, or why not.
type Activated struct {
	Seq      int
	Identity *identity.Identity
	Err      error
}

func (KeyPress) isEvent()     {}
func (Tick) isEvent()         {}
func (NetChecked) isEvent()   {}
func (CompanyFound) isEvent() {}
func (CodeSent) isEvent()     {}
func (Activated) isEvent()    {}

// enter moves to a state, resetting the page and opening a new Seq for a
// busy state.
func (m Model) enter(s State) Model {
	if s != m.State {
		m.Wrong = 0
	}
	m.State, m.Page = s, 0
	if s.busy() {
		m.Seq++
	}
	return m
}

// sessionValid reports whether the code can still be typed.
func (m Model) sessionValid(now time.Time) bool {
	return m.Session.ID != "" && !m.Session.Expires.IsZero() && now.Before(m.Session.Expires)
}

// Next is the pure next-state function: the model after ev at now, and a
// short reason for the log when the state changes.
func (mc Machine) Next(m Model, ev Event, now time.Time) (Model, string) {
	switch ev := ev.(type) {
	case KeyPress:
		return mc.key(m, ev.Key, now)
	case Tick:
		return mc.tick(m, now)
	case NetChecked:
		if ev.Seq != m.Seq || m.State != StateNetCheck {
			return m, ""
		}
		return mc.netChecked(m, ev.Report, now)
	case CompanyFound:
		if ev.Seq != m.Seq || m.State != StateCompanyLookup {
			return m, ""
		}
		if ev.Err != nil {
			return mc.fail(m, ev.Err, StateCompanyLookup)
		}
		m.Company = ev.Company
		return m.enter(StateCompanyConfirm), "company found"
	case CodeSent:
		if ev.Seq != m.Seq || m.State != StateCodeRequest {
			return m, ""
		}
		return mc.codeSent(m, ev, now)
	case Activated:
		if ev.Seq != m.Seq || m.State != StateActivating {
			return m, ""
		}
		return mc.activated(m, ev, now)
	}
	return m, ""
}

func (mc Machine) netChecked(m Model, r netcheck.Report, now time.Time) (Model, string) {
	m.Net = r
	if !r.OK() {
		a, _ := r.Advice()
		m.Problem = Problem{Title: a.Title, Text: a.Text, Enter: StateNetCheck, Back: StateNetCheck, Keys: "Enter=retry"}
		return m.enter(StateNetProblem), "network check failed"
	}
	// Deadlines of a session resumed after a reboot are counted from the
	// cloud's time when known, else from a clock that is set.
	if m.Session.ID != "" && m.Session.Expires.IsZero() {
		cloudNow, ok := now, clock.IsSet(now)
		if off, known := r.ClockOffset(); known {
			cloudNow, ok = now.Add(off), true
		}
		if ok {
			m.Session.Expires = now.Add(m.Session.ExpiresAt.Sub(cloudNow))
			m.Session.ResendAt = now.Add(m.Session.ResendAfter.Sub(cloudNow))
			m.Session.SentAt = now.Add(-helpAfter) // the help is no news after a reboot
			m.HelpShown = true
		}
	}
	return mc.afterNet(m, now)
}

// afterNet goes on from a passed network check, through the screens the
// installer still has to see, to where onboarding left off.
func (mc Machine) afterNet(m Model, now time.Time) (Model, string) {
	if m.Net.LANAdvice && !m.OnWiFi {
		a := netcheck.LANAdvice(m.Net.Iface)
		m.Problem = Problem{Title: a.Title, Text: a.Text, Enter: StateNetCheck, Back: StateNetCheck, Keys: "Enter=WiFi"}
		return m.enter(StateLANAdvice), "only WiFi is connected"
	}
	if a, ok := m.Net.Advice(); ok && a.CanContinue && !m.PortsOK {
		m.Problem = Problem{Title: a.Title, Text: a.Text, Enter: StateCompanyEntry, Back: StateNetCheck, Keys: "Enter=go on"}
		return m.enter(StateNetProblem), "some ports blocked"
	}
	switch {
	case m.sessionValid(now):
		return m.enter(StateCodeEntry), "network ok, code still valid"
	case m.Company.Name != "":
		m.Session = Session{}
		return m.enter(StateCompanyConfirm), "network ok, company known"
	}
	return m.enter(StateCompanyEntry), "network ok"
}

func (mc Machine) key(m Model, k hal.Key, now time.Time) (Model, string) {
	if k == hal.KeyUp || k == hal.KeyDown {
		if m.State == StateTimezoneConfirm {
			return mc.zoneKey(m, k), ""
		}
		if m.State == StateCodeEntry && k == hal.KeyDown {
			return m.enter(StateCodeHelp), "help asked for"
		}
		max := mc.maxPage(m, now)
		if k == hal.KeyUp {
			m.Page = max0(m.Page - 1)
		} else {
			m.Page = min(m.Page+1, max)
		}
		return m, ""
	}
	switch m.State {
	case StateNetProblem:
		return mc.problemKey(m, k, now)
	case StateLANAdvice:
		switch k {
		case hal.KeyEnter:
			m.OnWiFi = true
			return mc.afterNet(m, now)
		case hal.KeyClear:
			return m.enter(StateNetCheck), "check again"
		}
	case StateCompanyEntry:
		if d, ok := k.Digit(); ok {
			if len(m.CompanyID) < maxCompanyDigits {
				m.CompanyID += string(d)
			}
			m.Note = ""
			return m, ""
		}
		switch k {
		case hal.KeyClear:
			if m.CompanyID != "" {
				m.CompanyID = m.CompanyID[:len(m.CompanyID)-1]
				m.Note = ""
				return m, ""
			}
			return m.enter(StateNetCheck), "back"
		case hal.KeyEnter:
			if m.CompanyID == "" {
				m.Note = "ID missing"
				return m, ""
			}
			m.Note = ""
			m.Company, m.Session = wire.CompanyResponse{}, Session{}
			return m.enter(StateCompanyLookup), "company ID entered"
		}
	case StateCompanyLookup:
		if k == hal.KeyClear {
			return m.enter(StateCompanyEntry), "canceled"
		}
	case StateCompanyConfirm:
		switch k {
		case hal.KeyEnter:
			if m.sessionValid(now) {
				m.Note = "Code was sent"
				return m.enter(StateCodeEntry), "confirmed, code already sent"
			}
			m.Resend = false
			return m.enter(StateCodeRequest), "company confirmed"
		case hal.KeyClear:
			m.Company, m.Session = wire.CompanyResponse{}, Session{}
			return m.enter(StateCompanyEntry), "not this company"
		}
	case StateCodeRequest:
		if k == hal.KeyClear {
			if m.sessionValid(now) {
				return m.enter(StateCodeEntry), "canceled"
			}
			return m.enter(StateCompanyConfirm), "canceled"
		}
	case StateCodeEntry:
		return mc.codeKey(m, k, now)
	case StateCodeHelp:
		if d, ok := k.Digit(); ok {
			m.Code, m.Note = string(d), ""
			return m.enter(StateCodeEntry), "typing the code"
		}
		switch k {
		case hal.KeyF1:
			return mc.resend(m, now)
		case hal.KeyEnter, hal.KeyClear:
			return m.enter(StateCodeEntry), "back to the code"
		}
	case StateActivating:
		// No cancel: the cloud may already have used the code.
	case StateProblem:
		return mc.problemKey(m, k, now)
	case StateTimezoneConfirm:
		switch k {
		case hal.KeyEnter:
			return m.enter(StateDone), "timezone " + m.Zones[m.ZoneIdx] + " confirmed"
		case hal.KeyClear:
			m.ZoneIdx = 0 // back to the company's zone
		}
	}
	return m, ""
}

func (mc Machine) problemKey(m Model, k hal.Key, now time.Time) (Model, string) {
	switch k {
	case hal.KeyEnter:
		if m.State == StateNetProblem && m.Problem.Enter == StateCompanyEntry {
			m.PortsOK = true
			return mc.afterNet(m, now)
		}
		if m.Problem.Enter == StateCodeRequest {
			return mc.resend(m, now)
		}
		return m.enter(m.Problem.Enter), "retry"
	case hal.KeyClear:
		return m.enter(m.Problem.Back), "back"
	}
	return m, ""
}

func (mc Machine) codeKey(m Model, k hal.Key, now time.Time) (Model, string) {
	m.Wrong = 0
	if d, ok := k.Digit(); ok {
		if len(m.Code) < codeDigits {
			m.Code += string(d)
		}
		m.Note = ""
		return m, ""
	}
	switch k {
	case hal.KeyClear:
		if m.Code != "" {
			m.Code = m.Code[:len(m.Code)-1]
			m.Note = ""
			return m, ""
		}
		m.Note = ""
		return m.enter(StateCompanyConfirm), "back"
	case hal.KeyEnter:
		if len(m.Code) != codeDigits {
			m.Note = "Need " + strconv.Itoa(codeDigits) + " digits"
			return m, ""
		}
		m.Note = ""
		return m.enter(StateActivating), "code entered"
	case hal.KeyF1:
		return mc.resend(m, now)
	}
	return m, ""
}

// resend asks for a new code, unless the cloud's 60 s have not passed: then
// it says how long to wait and stays.
func (mc Machine) resend(m Model, now time.Time) (Model, string) {
	if m.Session.ID != "" && now.Before(m.Session.ResendAt) {
		m.Note = "New code in " + strconv.Itoa(ceilSeconds(m.Session.ResendAt.Sub(now))) + "s"
		if m.State != StateCodeEntry {
			return m.enter(StateCodeEntry), "resend too soon"
		}
		return m, ""
	}
	m.Resend = m.Session.ID != ""
	m.Code, m.Note = "", ""
	return m.enter(StateCodeRequest), "new code asked for"
}

func (mc Machine) tick(m Model, now time.Time) (Model, string) {
	if m.State != StateCodeEntry && m.State != StateCodeHelp {
		return m, ""
	}
	if !now.Before(m.Session.Expires) {
		m.Code = ""
		m.Problem = Problem{
			Title: "Code expired",
			Text:  []string{"The code is valid for a limited time only.", "Press Enter for a new code."},
			Enter: StateCodeRequest, Back: StateCompanyConfirm, Keys: "Enter=resend",
		}
		return m.enter(StateProblem), "code expired"
	}
	if m.State == StateCodeEntry && !m.HelpShown && m.Code == "" && now.Sub(m.Session.SentAt) >= helpAfter {
		m.HelpShown = true
		return m.enter(StateCodeHelp), "no code after a minute"
	}
	return m, ""
}

func (mc Machine) codeSent(m Model, ev CodeSent, now time.Time) (Model, string) {
	if ev.Err != nil {
		var we *wire.Error
		if errors.As(ev.Err, &we) && we.Code == wire.ErrResendTooSoon && m.sessionValid(now) {
			wait := time.Duration(max(we.RetryAfter, 1)) * time.Second
			m.Session.ResendAt = now.Add(wait)
			m.Note = "New code in " + strconv.Itoa(ceilSeconds(wait)) + "s"
			return m.enter(StateCodeEntry), "resend too soon"
		}
		return mc.fail(m, ev.Err, StateCodeRequest)
	}
	s := ev.Sent
	m.Session = Session{
		ID: s.SessionID, Recipients: s.Recipients, ExpiresAt: s.ExpiresAt, ResendAfter: s.ResendAfter,
		SentAt: now, Expires: now.Add(s.ExpiresAt.Sub(s.ServerTime)), ResendAt: now.Add(s.ResendAfter.Sub(s.ServerTime)),
	}
	m.Code, m.HelpShown = "", false
	m.Note = ""
	if m.Resend {
		m.Note = "New code sent"
	}
	return m.enter(StateCodeEntry), fmt.Sprintf("code sent to %d administrators", s.Recipients)
}

func (mc Machine) activated(m Model, ev Activated, now time.Time) (Model, string) {
	if ev.Err != nil {
		// The code stays for a retry after a network failure; a refused
		// code goes.
		var we *wire.Error
		if errors.As(ev.Err, &we) {
			m.Code = ""
		}
		if we != nil && we.Code == wire.ErrWrongCode {
			m = m.enter(StateCodeEntry)
			m.Wrong = max(we.TriesLeft, 1)
			return m, "wrong code"
		}
		return mc.fail(m, ev.Err, StateActivating)
	}
	m.Code = ""
	m.Identity = ev.Identity
	m.Zones = zoneChoices(ev.Identity.Timezone, mc.Zones)
	m.ZoneIdx = 0
	m.Session = Session{}
	return m.enter(StateTimezoneConfirm), "activated as " + ev.Identity.DeviceID
}

func (mc Machine) zoneKey(m Model, k hal.Key) Model {
	n := len(m.Zones)
	if n == 0 {
		return m
	}
	if k == hal.KeyDown {
		m.ZoneIdx = (m.ZoneIdx + 1) % n
	} else {
		m.ZoneIdx = (m.ZoneIdx + n - 1) % n
	}
	return m
}

// fail shows the screen for a cloud failure during step.
func (mc Machine) fail(m Model, err error, step State) (Model, string) {
	m.Problem = mc.problemFor(m, err, step)
	if m.Problem.Enter == StateCompanyConfirm || m.Problem.Back == StateCompanyConfirm {
		// The session is over: a new one starts from the confirm screen.
		if code := errCode(err); code == wire.ErrNoSession || code == wire.ErrDisabled {
			m.Session = Session{}
		}
	}
	return m.enter(StateProblem), "failed: " + reason(err)
}

func ceilSeconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

func max0(n int) int { return max(n, 0) }

// Wake is when the model next changes by itself (the countdown's next
// second, the one-minute help, expiry), and false when only input or a
// result can change it.
func (mc Machine) Wake(m Model, now time.Time) (time.Time, bool) {
	if m.State != StateCodeEntry && m.State != StateCodeHelp {
		return time.Time{}, false
	}
	left := m.Session.Expires.Sub(now)
	if left <= 0 {
		return now, true
	}
	step := left % time.Second
	if step == 0 {
		step = time.Second
	}
	at := now.Add(step)
	if m.State == StateCodeEntry && !m.HelpShown {
		if h := m.Session.SentAt.Add(helpAfter); h.Before(at) {
			at = h
		}
	}
	if at.Before(now) {
		at = now
	}
	return at, true
}
