package agent

import (
	"time"

	"timeclock/agent/journal"
	"timeclock/hal"
)

// The punch flow is a pure function, next, from the session and one event
// to the new session and the effects to perform; step (in run.go) performs
// them and feeds their results back as events. Table tests cover next
// without hardware, disk or time.

// session is the UI's state: the screen's state plus the interaction in
// progress.
type session struct {
	state    State
	kind     journal.Kind // F1-F4 pressed first; 0: infer IN or OUT
	pin      string       // digits typed; never logged
	who      person       // during StateDepartment
	dept     int          // chosen department index
	result   result       // during StateFeedback
	deadline time.Time    // when the state times out; zero: never
	// confirm: disabled, and "set up again?" is on screen (F4 asked it).
	confirm bool
}

// person is a lookup's answer: who swiped or typed, and their last punch.
type person struct {
	Found       bool
	ViaPIN      bool
	Employee    string
	Name        string
	Badge       string // the badge swiped (unknown badges are recorded by it)
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
)

type result struct {
	out   outcome
	punch journal.Punch // outAccepted, and outUnknownBadge when recorded
	name  string
	badge string
	at    time.Time // outDuplicate: the earlier punch
}

// Events.
type (
	event        interface{}
	keyPressed   struct{ key hal.Key }
	badgeRead    struct{ number string }
	tick         struct{} // the state timer fired
	identified   struct{ p person }
	recorded     struct{ punch journal.Punch }
	recordFailed struct{ full bool }
	setDisabled  struct{ on bool }
)

// Effects.
type (
	effect interface{}
	// lookup finds the badge's or PIN's owner and their last punch.
	lookup struct{ badge, pin string }
	// record appends the punch durably (the runner stamps time and clock).
	record struct{ punch journal.Punch }
	// signal lights the green (ok) or red LED and sounds the buzzer.
	signal struct{ ok bool }
	// ledsOff puts both LEDs out.
	ledsOff struct{}
	// onboardAgain forgets the disable, so the clock can be onboarded
	// again (the installer confirmed it on the disabled screen).
	onboardAgain struct{}
)

// facts are the inputs next needs besides the session and the event.
type facts struct {
	now           time.Time
	idleTimeout   time.Duration
	feedbackTime  time.Duration
	dupWindow     time.Duration
	recordUnknown bool
	// canOnboard: a disabled clock may be set up again here (a cloud is
	// configured and the last transmission is over).
	canOnboard bool
}

// maxShift: a last IN older than this is a forgotten punch-out, so the
// next punch is an IN, not an OUT.
const maxShift = 16 * time.Hour

// maxPINDigits bounds what the PIN field takes.
const maxPINDigits = 8

func next(s session, ev event, f facts) (session, []effect) {
	out, effs := transition(s, ev, f)
	if s.state == StateFeedback && out.state != StateFeedback && out.state != StateBusy {
		effs = append([]effect{ledsOff{}}, effs...)
	}
	return out, effs
}

func idle() session { return session{state: StateIdle} }

func transition(s session, ev event, f facts) (session, []effect) {
	if d, ok := ev.(setDisabled); ok {
		if d.on {
			return session{state: StateDisabled}, []effect{ledsOff{}}
		}
		if s.state == StateDisabled {
			return idle(), nil
		}
		return s, nil
	}
	if s.state == StateDisabled {
		return whileDisabled(s, ev, f)
	}
	switch ev := ev.(type) {
	case tick:
		if !s.deadline.IsZero() && !f.now.Before(s.deadline) {
			return idle(), nil
		}
		return s, nil
	case badgeRead:
		if s.state == StateBusy {
			return s, nil
		}
		return session{state: StateBusy, kind: s.kind}, []effect{lookup{badge: ev.number}}
	case keyPressed:
		return onKey(s, ev.key, f)
	case identified:
		return onIdentified(s, ev.p, f)
	case recorded:
		if ev.punch.Unassigned() {
			return feedback(f, result{out: outUnknownBadge, punch: ev.punch, badge: ev.punch.Badge}), []effect{signal{ok: false}}
		}
		return feedback(f, result{out: outAccepted, punch: ev.punch, name: ev.punch.Name}), []effect{signal{ok: true}}
	case recordFailed:
		out := outStorageError
		if ev.full {
			out = outFull
		}
		return feedback(f, result{out: out}), []effect{signal{ok: false}}
	}
	return s, nil
}

// whileDisabled refuses punches. F4 asks "set up again?" (when the clock
// can be onboarded); Enter confirms, Clear or a timeout goes back.
func whileDisabled(s session, ev event, f facts) (session, []effect) {
	disabled := session{state: StateDisabled}
	switch ev := ev.(type) {
	case badgeRead:
		return s, []effect{signal{ok: false}}
	case keyPressed:
		switch {
		case !s.confirm && ev.key == hal.KeyF4 && f.canOnboard:
			return session{state: StateDisabled, confirm: true, deadline: f.now.Add(f.idleTimeout)}, nil
		case s.confirm && ev.key == hal.KeyEnter && f.canOnboard:
			return session{state: StateOnboarding}, []effect{onboardAgain{}}
		case s.confirm && ev.key == hal.KeyClear:
			return disabled, nil
		}
	case tick:
		if s.confirm && !f.now.Before(s.deadline) {
			return disabled, nil
		}
	}
	return s, nil
}

func feedback(f facts, r result) session {
	return session{state: StateFeedback, result: r, deadline: f.now.Add(f.feedbackTime)}
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

func onKey(s session, k hal.Key, f facts) (session, []effect) {
	entry := func(kind journal.Kind, pin string) session {
		return session{state: StateEntry, kind: kind, pin: pin, deadline: f.now.Add(f.idleTimeout)}
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
			return session{state: StateBusy, kind: s.kind}, []effect{lookup{pin: s.pin}}
		}
		return entry(s.kind, s.pin), nil // any key keeps the entry alive
	case StateDepartment:
		n := len(s.who.Departments)
		s.deadline = f.now.Add(f.idleTimeout)
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
			return session{state: StateBusy}, []effect{record{punch: draft(s.who, s.kind, s.who.Departments[s.dept])}}
		}
		return s, nil
	}
	return s, nil
}

func draft(p person, kind journal.Kind, dept string) journal.Punch {
	return journal.Punch{Employee: p.Employee, Name: p.Name, Badge: "", Kind: kind, Department: dept}
}

// duplicate reports whether a last punch is inside the window. A clock
// stepped far back (last punch in the future) is not a duplicate.
func duplicate(last *journal.Last, f facts) bool {
	if last == nil || f.dupWindow <= 0 {
		return false
	}
	d := f.now.Sub(last.Time)
	return d < f.dupWindow && d > -f.dupWindow
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

func onIdentified(s session, p person, f facts) (session, []effect) {
	refuse := func(r result) (session, []effect) { return feedback(f, r), []effect{signal{ok: false}} }
	kind := inferKind(s.kind, p.Last, f.now)
	if !p.Found {
		if p.ViaPIN {
			return refuse(result{out: outUnknownPIN})
		}
		// Swiping an unknown badge again inside the window records nothing
		// more, but says the same.
		if !f.recordUnknown || duplicate(p.Last, f) {
			return refuse(result{out: outUnknownBadge, badge: p.Badge})
		}
		return session{state: StateBusy}, []effect{record{punch: journal.Punch{Badge: p.Badge, Kind: kind}}}
	}
	if !p.Active {
		return refuse(result{out: outInactive, name: p.Name})
	}
	if duplicate(p.Last, f) {
		return refuse(result{out: outDuplicate, name: p.Name, at: p.Last.Time})
	}
	switch len(p.Departments) {
	case 0:
		return session{state: StateBusy}, []effect{record{punch: draft(p, kind, "")}}
	case 1:
		return session{state: StateBusy}, []effect{record{punch: draft(p, kind, p.Departments[0])}}
	}
	dept := 0
	if p.Last != nil {
		for i, d := range p.Departments {
			if d == p.Last.Department {
				dept = i
			}
		}
	}
	return session{state: StateDepartment, kind: kind, who: p, dept: dept, deadline: f.now.Add(f.idleTimeout)}, nil
}
