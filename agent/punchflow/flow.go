// Package punchflow is the clock's punch flow as pure functions: Next takes
// the session and one event to the new session and the effects to perform,
// and Screen renders a session for 16x2, 20x4 and 21x8 displays. The agent's
// punch loop performs the effects (lookups, durable records, LEDs and
// buzzer) and feeds their results back as events. Nothing here touches
// hardware, disk or the clock, so table tests cover every step.
package punchflow

import (
	"time"

	"timeclock/agent/journal"
	"timeclock/hal"
)

// Session is the flow's state: the screen's state plus the interaction in
// progress. The zero Session is idle.
type Session struct {
	state    State
	kind     journal.Kind // F1-F4 pressed first; 0: infer IN or OUT
	pin      string       // digits typed; never logged
	who      Person       // during StateDepartment
	dept     int          // chosen department index
	result   result       // during StateFeedback
	deadline time.Time    // when the state times out; zero: never
	// confirm: disabled, and "set up again?" is on screen (F4 asked it).
	confirm bool
}

// Start is the session a punch loop starts in: idle, or disabled when the
// administrator has disabled the clock.
func Start(disabled bool) Session {
	if disabled {
		return Session{state: StateDisabled}
	}
	return idle()
}

// State is where the flow is.
func (s Session) State() State { return s.state }

// Deadline is when the state times out (a Tick then moves on); zero: never.
func (s Session) Deadline() time.Time { return s.deadline }

// Person is a lookup's answer: who swiped or typed, and their last punch.
type Person struct {
	Found    bool
	ViaPIN   bool
	Employee string
	Name     string
	Badge    string // the badge swiped (unknown badges are recorded by it)
	// ViaFinger: identified by a fingerprint; Score is the module's
	// match confidence, recorded with the punch.
	ViaFinger   bool
	Score       int
	Departments []string
	Active      bool
	Last        *journal.Last
}

// outcome is what a feedback screen says.
type outcome uint8

const (
	outAccepted outcome = iota + 1
	outUnknownBadge
	outUnknownPIN
	outInactive
	outDuplicate
	outFull
	outStorageError
	outDisabled
	outUnknownFinger
)

type result struct {
	out   outcome
	punch journal.Punch // outAccepted, and outUnknownBadge when recorded
	name  string
	badge string
	at    time.Time // outDuplicate: the earlier punch
}

// Event is what Next reacts to: an input (a key, a badge, the timer, the
// administrator) or the result of an effect.
type Event interface{ event() }

// The events.
type (
	// KeyPressed is a key on the keypad.
	KeyPressed struct{ Key hal.Key }
	// BadgeRead is a badge swiped or held to a reader; Key is the badge as
	// the roster matches it ("12:34567", "em:62E3086CED", "10001").
	BadgeRead struct{ Key string }
	// FingerRead is a finger the sensor matched (Employee is whose
	// template it matched, Score the confidence) or did not (Employee "").
	FingerRead struct {
		Employee string
		Score    int
	}
	// EnrollDone: the enrollment flow that had the screen ended.
	EnrollDone struct{}
	// Tick: the state's timer fired.
	Tick struct{}
	// Identified answers Lookup.
	Identified struct{ Person Person }
	// Recorded answers Record: the punch is in the journal, as stored.
	Recorded struct{ Punch journal.Punch }
	// RecordFailed answers Record: nothing was stored (Full: the journal
	// is at capacity).
	RecordFailed struct{ Full bool }
	// Disabled: the administrator disabled the clock. Nothing enables it
	// again: a disabled clock is only ever set up again (OnboardAgain).
	Disabled struct{}
)

func (KeyPressed) event()   {}
func (BadgeRead) event()    {}
func (FingerRead) event()   {}
func (EnrollDone) event()   {}
func (Tick) event()         {}
func (Identified) event()   {}
func (Recorded) event()     {}
func (RecordFailed) event() {}
func (Disabled) event()     {}

// Effect is what Next asks the runner to do; lookups and records answer
// with an event.
type Effect interface{ effect() }

// The effects.
type (
	// Lookup finds the badge's or PIN's owner and their last punch; or,
	// for a finger, the employee (Finger set) and their last punch.
	Lookup struct {
		Badge, PIN string
		Finger     *FingerRead
	}
	// StartEnroll hands the screen to the enrollment flow (# on the idle
	// screen, when the clock can enroll fingers).
	StartEnroll struct{}
	// Record appends the punch durably (the runner stamps time and clock).
	Record struct{ Punch journal.Punch }
	// Signal lights the green (OK) or red LED and sounds the buzzer.
	Signal struct{ OK bool }
	// LEDsOff puts both LEDs out.
	LEDsOff struct{}
	// OnboardAgain forgets the disable, so the clock can be onboarded
	// again (the installer confirmed it on the disabled screen).
	OnboardAgain struct{}
)

func (Lookup) effect()       {}
func (StartEnroll) effect()  {}
func (Record) effect()       {}
func (Signal) effect()       {}
func (LEDsOff) effect()      {}
func (OnboardAgain) effect() {}

// Facts are the inputs Next needs besides the session and the event.
type Facts struct {
	Now                 time.Time
	IdleTimeout         time.Duration
	FeedbackTime        time.Duration
	DuplicateWindow     time.Duration
	RecordUnknownBadges bool
	// CanOnboard: a disabled clock may be set up again here (a cloud is
	// configured and the last transmission is over).
	CanOnboard bool
	// CanEnroll: the clock has a fingerprint module that enrolls.
	CanEnroll bool
}

// maxShift: a last IN older than this is a forgotten punch-out, so the
// next punch is an IN, not an OUT.
const maxShift = 16 * time.Hour

// maxPINDigits bounds what the PIN field takes.
const maxPINDigits = 8

// Next is the flow: the session after ev, and the effects to perform in
// order. Leaving a feedback screen puts the LEDs out.
func Next(s Session, ev Event, f Facts) (Session, []Effect) {
	out, effs := transition(s, ev, f)
	if s.state == StateFeedback && out.state != StateFeedback && out.state != StateBusy {
		effs = append([]Effect{LEDsOff{}}, effs...)
	}
	return out, effs
}

func idle() Session { return Session{state: StateIdle} }

func transition(s Session, ev Event, f Facts) (Session, []Effect) {
	if _, ok := ev.(Disabled); ok {
		return Session{state: StateDisabled}, []Effect{LEDsOff{}}
	}
	if s.state == StateDisabled {
		return whileDisabled(s, ev, f)
	}
	if s.state == StateEnroll {
		if _, ok := ev.(EnrollDone); ok {
			return idle(), nil
		}
		return s, nil // the enrollment flow has the keys and the screen
	}
	switch ev := ev.(type) {
	case Tick:
		if !s.deadline.IsZero() && !f.Now.Before(s.deadline) {
			return idle(), nil
		}
		return s, nil
	case BadgeRead:
		if s.state == StateBusy {
			return s, nil
		}
		return Session{state: StateBusy, kind: s.kind}, []Effect{Lookup{Badge: ev.Key}}
	case FingerRead:
		if s.state == StateBusy || s.state == StateDepartment {
			return s, nil
		}
		if ev.Employee == "" {
			return feedback(f, result{out: outUnknownFinger}), []Effect{Signal{OK: false}}
		}
		return Session{state: StateBusy, kind: s.kind}, []Effect{Lookup{Finger: &ev}}
	case KeyPressed:
		return onKey(s, ev.Key, f)
	case Identified:
		return onIdentified(s, ev.Person, f)
	case Recorded:
		if ev.Punch.Unassigned() {
			return feedback(f, result{out: outUnknownBadge, punch: ev.Punch, badge: ev.Punch.Badge}), []Effect{Signal{OK: false}}
		}
		return feedback(f, result{out: outAccepted, punch: ev.Punch, name: ev.Punch.Name}), []Effect{Signal{OK: true}}
	case RecordFailed:
		out := outStorageError
		if ev.Full {
			out = outFull
		}
		return feedback(f, result{out: out}), []Effect{Signal{OK: false}}
	}
	return s, nil
}

// whileDisabled refuses punches. F4 asks "set up again?" (when the clock
// can be onboarded); Enter confirms, Clear or a timeout goes back.
func whileDisabled(s Session, ev Event, f Facts) (Session, []Effect) {
	disabled := Session{state: StateDisabled}
	switch ev := ev.(type) {
	case BadgeRead:
		return s, []Effect{Signal{OK: false}}
	case KeyPressed:
		switch {
		case !s.confirm && ev.Key == hal.KeyF4 && f.CanOnboard:
			return Session{state: StateDisabled, confirm: true, deadline: f.Now.Add(f.IdleTimeout)}, nil
		case s.confirm && ev.Key == hal.KeyEnter && f.CanOnboard:
			return Session{state: StateOnboarding}, []Effect{OnboardAgain{}}
		case s.confirm && ev.Key == hal.KeyClear:
			return disabled, nil
		}
	case Tick:
		if s.confirm && !f.Now.Before(s.deadline) {
			return disabled, nil
		}
	}
	return s, nil
}

func feedback(f Facts, r result) Session {
	return Session{state: StateFeedback, result: r, deadline: f.Now.Add(f.FeedbackTime)}
}

func kindKey(k hal.Key) (journal.Kind, bool) {
	switch k {
	case hal.KeyF1:
		return journal.KindIn, true
	case hal.KeyF2:
		return journal.KindOut, true
	case hal.KeyF3:
		return journal.KindBreak, true
	case hal.KeyF4:
		return journal.KindLunch, true
	}
	return 0, false
}

func onKey(s Session, k hal.Key, f Facts) (Session, []Effect) {
	entry := func(kind journal.Kind, pin string) Session {
		return Session{state: StateEntry, kind: kind, pin: pin, deadline: f.Now.Add(f.IdleTimeout)}
	}
	digit, isDigit := k.Digit()
	kind, isKind := kindKey(k)
	switch s.state {
	case StateIdle, StateFeedback:
		switch {
		case isDigit:
			return entry(0, string(digit)), nil
		case isKind:
			return entry(kind, ""), nil
		case k == hal.KeyClear && s.state == StateFeedback:
			return idle(), nil
		case k == hal.KeyHash && f.CanEnroll:
			return Session{state: StateEnroll}, []Effect{StartEnroll{}}
		}
	case StateEntry:
		switch {
		case isDigit:
			pin := s.pin
			if len(pin) < maxPINDigits {
				pin += string(digit)
			}
			return entry(s.kind, pin), nil
		case isKind:
			return entry(kind, s.pin), nil
		case k == hal.KeyClear:
			return idle(), nil
		case k == hal.KeyEnter && s.pin != "":
			return Session{state: StateBusy, kind: s.kind}, []Effect{Lookup{PIN: s.pin}}
		}
		return entry(s.kind, s.pin), nil // any key keeps the entry alive
	case StateDepartment:
		n := len(s.who.Departments)
		s.deadline = f.Now.Add(f.IdleTimeout)
		switch {
		case k == hal.KeyUp:
			s.dept = (s.dept + n - 1) % n
		case k == hal.KeyDown:
			s.dept = (s.dept + 1) % n
		case isKind:
			s.kind = kind
		case k == hal.KeyClear:
			return idle(), nil
		case k == hal.KeyEnter:
			return Session{state: StateBusy}, []Effect{Record{Punch: draft(s.who, s.kind, s.who.Departments[s.dept])}}
		}
		return s, nil
	}
	return s, nil
}

func draft(p Person, kind journal.Kind, dept string) journal.Punch {
	return journal.Punch{Employee: p.Employee, Name: p.Name, Badge: "", Kind: kind, Department: dept, Finger: p.ViaFinger, MatchScore: p.Score}
}

// duplicate reports whether a last punch is inside the window. A clock
// stepped far back (last punch in the future) is not a duplicate.
func duplicate(last *journal.Last, f Facts) bool {
	if last == nil || f.DuplicateWindow <= 0 {
		return false
	}
	d := f.Now.Sub(last.Time)
	return d < f.DuplicateWindow && d > -f.DuplicateWindow
}

// inferKind: a key pressed first wins; otherwise IN after OUT, BREAK or
// LUNCH (back to work) or nothing, OUT after IN, IN again after a shift too
// long to be real.
func inferKind(override journal.Kind, last *journal.Last, now time.Time) journal.Kind {
	switch {
	case override != 0:
		return override
	case last == nil, now.Sub(last.Time) > maxShift:
		return journal.KindIn
	case last.Kind == journal.KindIn:
		return journal.KindOut
	}
	return journal.KindIn
}

func onIdentified(s Session, p Person, f Facts) (Session, []Effect) {
	refuse := func(r result) (Session, []Effect) { return feedback(f, r), []Effect{Signal{OK: false}} }
	kind := inferKind(s.kind, p.Last, f.Now)
	if !p.Found {
		if p.ViaPIN {
			return refuse(result{out: outUnknownPIN})
		}
		if p.ViaFinger {
			// The finger's employee left the roster: their templates
			// are being deleted. Nothing is recorded.
			return refuse(result{out: outUnknownFinger})
		}
		// Swiping an unknown badge again inside the window records nothing
		// more, but says the same.
		if !f.RecordUnknownBadges || duplicate(p.Last, f) {
			return refuse(result{out: outUnknownBadge, badge: p.Badge})
		}
		return Session{state: StateBusy}, []Effect{Record{Punch: journal.Punch{Badge: p.Badge, Kind: kind}}}
	}
	if !p.Active {
		return refuse(result{out: outInactive, name: p.Name})
	}
	if duplicate(p.Last, f) {
		return refuse(result{out: outDuplicate, name: p.Name, at: p.Last.Time})
	}
	switch len(p.Departments) {
	case 0:
		return Session{state: StateBusy}, []Effect{Record{Punch: draft(p, kind, "")}}
	case 1:
		return Session{state: StateBusy}, []Effect{Record{Punch: draft(p, kind, p.Departments[0])}}
	}
	dept := 0
	if p.Last != nil {
		for i, d := range p.Departments {
			if d == p.Last.Department {
				dept = i
			}
		}
	}
	return Session{state: StateDepartment, kind: kind, who: p, dept: dept, deadline: f.Now.Add(f.IdleTimeout)}, nil
}

// Reason names an effect's result for the log ("unknown badge", "punch
// recorded"); the runner names the inputs itself.
func Reason(ev Event) string {
	switch ev := ev.(type) {
	case Identified:
		switch {
		case !ev.Person.Found && ev.Person.ViaPIN:
			return "unknown PIN"
		case !ev.Person.Found && ev.Person.ViaFinger:
			return "unknown finger"
		case !ev.Person.Found:
			return "unknown badge"
		case !ev.Person.Active:
			return "not active"
		}
		return "identified"
	case Recorded:
		return "punch recorded"
	case RecordFailed:
		if ev.Full {
			return "storage full"
		}
		return "storage error"
	}
	return "event"
}
