package onboarding

import (
	"time"

	"timeclock/hal"
	"timeclock/onboarding/identity"
	"timeclock/onboarding/netcheck"
	"timeclock/wire"
)

// Rules of the flow. The cloud enforces its own (expiry, resend delay);
// these only shape the screens.
const (
	maxCompanyDigits = wire.CompanyIDMaxDigits
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
	ID         string
	Recipients int
	ExpiresAt  time.Time // cloud time
	SentAt     time.Time // device clock when the answer came
	Expires    time.Time // device clock
	// ResendAt (device clock) is when the cloud sends a new code, as it
	// said when asked too early; the screens count down to it.
	ResendAt time.Time
	// Blocked: too many wrong codes burned it; it cannot be typed any more.
	Blocked bool
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
	// ResendWait adds the countdown to Session.ResendAt (then "Press
	// Enter for a new code.") below Text.
	ResendWait bool
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
	Sent CodeAnswer
	Err  error
}

// Activated is the end of activation: the saved identity, or why not.
type Activated struct {
	Seq      int
	Identity *identity.Identity
	Err      error
}

func (KeyPress) isEvent() {}

func (Tick) isEvent() {}

func (NetChecked) isEvent() {}

func (CompanyFound) isEvent() {}

func (CodeSent) isEvent() {}

func (Activated) isEvent() {}

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
	return m.Session.ID != "" && !m.Session.Blocked && !m.Session.Expires.IsZero() && now.Before(m.Session.Expires)
}
