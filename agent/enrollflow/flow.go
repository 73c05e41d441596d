// Package enrollflow is fingerprint enrollment at the clock as pure
// functions: a supervisor shows their badge or PIN, picks the employee (the
// employee's badge or PIN, or Up/Down through the roster), the employee's consent is confirmed on the
// screen, and the module takes three scans of one finger ("Place finger",
// "Lift finger", "Again 2/3", "Again 3/3") before the template is stored
// on it. Next takes the session and one event to the new session and the
// effects to perform; Screen renders it for 16x2 to 21x8 displays. The
// agent's punch loop performs the effects (lookups, scans on the module,
// storing the template and the consent) and feeds their results back.
//
// Nothing here sees a template or an image: the module keeps them.
package enrollflow

import (
	"fmt"
	"time"

	"timeclock/hal"
)

// State is where the enrollment is.
type State uint8

// The states.
const (
	StateSupervisor      State = iota // a supervisor's badge or PIN
	StateCheckSupervisor              // looking the supervisor up
	StateEmployee                     // the employee's badge or PIN
	StateCheckEmployee                // looking the employee up
	StateConsent                      // the employee confirms consent on the screen
	StateScan                         // waiting for scan N on the module
	StateLift                         // waiting for the finger to be lifted
	StateStoring                      // the template and consent are being stored
	StateResult                       // the outcome is on screen
	StateDone                         // over: the punch flow takes the screen back
)

var stateNames = [...]string{"supervisor", "check-supervisor", "employee", "check-employee", "consent", "scan", "lift", "storing", "result", "done"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Person is a lookup's answer.
type Person struct {
	Found      bool
	Employee   string
	Name       string
	Active     bool
	Supervisor bool
}

// Session is the enrollment in progress.
type Session struct {
	state      State
	pin        string // digits typed; never logged
	picked     Person // StateEmployee: the employee browsed to with Up/Down
	supervisor Person
	employee   Person
	consentAt  time.Time
	n          int    // the scan on the module (StateScan) or the next one (StateLift)
	hint       string // why a scan is taken again
	ok         bool   // StateResult: success
	msg        []string
	deadline   time.Time
}

// State is where the session is.
func (s Session) State() State { return s.state }

// Deadline is when the state times out; zero: never.
func (s Session) Deadline() time.Time { return s.deadline }

// Facts are Next's inputs besides the session and the event.
type Facts struct {
	Now          time.Time
	IdleTimeout  time.Duration // badge/PIN entry and the consent question
	ScanTimeout  time.Duration // waiting for a finger
	FeedbackTime time.Duration // the outcome stays this long
}

// Start is a new enrollment: the supervisor's badge or PIN is asked for.
func Start(f Facts) Session {
	return Session{state: StateSupervisor, deadline: f.Now.Add(f.IdleTimeout)}
}

// Event is what Next reacts to.
type Event interface{ event() }

// ScanFault is why a scan failed.
type ScanFault uint8

// Scan faults.
const (
	FaultNotSame ScanFault = iota + 1 // not the finger of the earlier scans
	FaultImage                        // a poor image: smudged, too little of the finger
	FaultSensor                       // the module failed (timeout, unplugged)
)

// The events.
type (
	// Key is a key on the keypad.
	Key struct{ Key hal.Key }
	// Badge is a badge read (the roster's key).
	Badge struct{ Key string }
	// Tick: the state's timer fired.
	Tick struct{}
	// Found answers Lookup.
	Found struct{ Person Person }
	// Browsed answers Browse: the employee next in the roster (by name),
	// not Found when the roster has nobody to pick.
	Browsed struct{ Person Person }
	// Scanned answers Scan: scan N was taken. For scan 1, Owner is the
	// employee whose finger it already is ("" when nobody's).
	Scanned struct {
		N     int
		Owner string
	}
	// ScanFailed answers Scan.
	ScanFailed struct{ Fault ScanFault }
	// Lifted answers WaitLift.
	Lifted struct{}
	// Stored answers Store: the template is on the module, the consent
	// in the state file.
	Stored struct{}
	// StoreFailed answers Store; Full: the module has no free slot.
	StoreFailed struct{ Full bool }
)

func (Key) event()         {}
func (Badge) event()       {}
func (Tick) event()        {}
func (Found) event()       {}
func (Browsed) event()     {}
func (Scanned) event()     {}
func (ScanFailed) event()  {}
func (Lifted) event()      {}
func (Stored) event()      {}
func (StoreFailed) event() {}

// Effect is what Next asks the runner to do.
type Effect interface{ effect() }

// The effects.
type (
	// Lookup finds the badge's or PIN's owner in the roster.
	Lookup struct{ Badge, PIN string }
	// Browse finds the active employee after (Step 1) or before (Step -1)
	// From in the roster's name order, wrapping; From "" starts at
	// either end. Answered by Browsed.
	Browse struct {
		From string
		Step int
	}
	// Scan waits for a finger and takes scan N (1-3) on the module;
	// answered by Scanned or ScanFailed.
	Scan struct{ N int }
	// WaitLift waits for the finger to leave the module; answered by
	// Lifted (or ScanFailed).
	WaitLift struct{}
	// Cancel stops a Scan or WaitLift in progress (no answer follows).
	Cancel struct{}
	// Store keeps the template on the module and the enrollment with the
	// consent (time, supervisor) in the state file; answered by Stored or
	// StoreFailed.
	Store struct {
		Employee, Supervisor string
		ConsentAt            time.Time
	}
	// Signal lights the green (OK) or red LED and sounds the buzzer.
	Signal struct{ OK bool }
	// Done ends the enrollment: the module goes back to identifying.
	Done struct{}
)

func (Lookup) effect()   {}
func (Browse) effect()   {}
func (Scan) effect()     {}
func (WaitLift) effect() {}
func (Cancel) effect()   {}
func (Store) effect()    {}
func (Signal) effect()   {}
func (Done) effect()     {}

const maxPINDigits = 8

// Next is the flow.
func Next(s Session, ev Event, f Facts) (Session, []Effect) {
	if s.state == StateDone {
		return s, nil
	}
	if _, ok := ev.(Tick); ok {
		if s.deadline.IsZero() || f.Now.Before(s.deadline) {
			return s, nil
		}
		switch s.state {
		case StateScan, StateLift:
			return result(f, false, "Timed out", "Not enrolled"), []Effect{Cancel{}, Signal{OK: false}}
		}
		return Session{state: StateDone}, []Effect{Done{}}
	}
	switch s.state {
	case StateSupervisor, StateEmployee:
		return entry(s, ev, f)
	case StateCheckSupervisor:
		if ev, ok := ev.(Found); ok {
			p := ev.Person
			if !p.Found || !p.Active || !p.Supervisor {
				return result(f, false, "Not a supervisor"), []Effect{Signal{OK: false}}
			}
			return Session{state: StateEmployee, supervisor: p, deadline: f.Now.Add(f.IdleTimeout)}, nil
		}
	case StateCheckEmployee:
		if ev, ok := ev.(Found); ok {
			p := ev.Person
			switch {
			case !p.Found:
				return Session{state: StateEmployee, supervisor: s.supervisor, hint: "Unknown, again", deadline: f.Now.Add(f.IdleTimeout)}, []Effect{Signal{OK: false}}
			case !p.Active:
				return result(f, false, "Not active", p.Name), []Effect{Signal{OK: false}}
			}
			return Session{state: StateConsent, supervisor: s.supervisor, employee: p, deadline: f.Now.Add(f.IdleTimeout)}, nil
		}
	case StateConsent:
		if ev, ok := ev.(Key); ok {
			switch ev.Key {
			case hal.KeyEnter:
				s.consentAt, s.state, s.n, s.deadline = f.Now, StateScan, 1, f.Now.Add(f.ScanTimeout)
				return s, []Effect{Scan{N: 1}}
			case hal.KeyClear:
				return result(f, false, "No consent", "Not enrolled"), []Effect{Signal{OK: false}}
			}
			s.deadline = f.Now.Add(f.IdleTimeout)
			return s, nil
		}
	case StateScan, StateLift:
		return scanning(s, ev, f)
	case StateStoring:
		switch ev := ev.(type) {
		case Stored:
			return result(f, true, "Enrolled", s.employee.Name), []Effect{Signal{OK: true}}
		case StoreFailed:
			if ev.Full {
				return result(f, false, "Sensor full", "Not enrolled"), []Effect{Signal{OK: false}}
			}
			return result(f, false, "Sensor error", "Not enrolled"), []Effect{Signal{OK: false}}
		}
	case StateResult:
		if _, ok := ev.(Key); ok {
			return Session{state: StateDone}, []Effect{Done{}}
		}
	}
	return s, nil
}

func result(f Facts, ok bool, msg ...string) Session {
	return Session{state: StateResult, ok: ok, msg: msg, deadline: f.Now.Add(f.FeedbackTime)}
}

// entry is a badge or a PIN typed, for the supervisor or the employee.
func entry(s Session, ev Event, f Facts) (Session, []Effect) {
	check := StateCheckSupervisor
	if s.state == StateEmployee {
		check = StateCheckEmployee
	}
	busy := Session{state: check, supervisor: s.supervisor}
	switch ev := ev.(type) {
	case Badge:
		return busy, []Effect{Lookup{Badge: ev.Key}}
	case Browsed:
		if s.state == StateEmployee && ev.Person.Found {
			s.picked, s.pin, s.hint = ev.Person, "", ""
		}
		return s, nil
	case Key:
		s.deadline = f.Now.Add(f.IdleTimeout)
		if d, ok := ev.Key.Digit(); ok {
			if len(s.pin) < maxPINDigits {
				s.pin += string(d)
			}
			s.hint, s.picked = "", Person{}
			return s, nil
		}
		switch ev.Key {
		case hal.KeyUp, hal.KeyDown:
			if s.state != StateEmployee {
				return s, nil
			}
			step := 1
			if ev.Key == hal.KeyUp {
				step = -1
			}
			return s, []Effect{Browse{From: s.picked.Employee, Step: step}}
		case hal.KeyClear:
			if s.pin != "" || s.picked.Found {
				s.pin, s.picked = "", Person{}
				return s, nil
			}
			return Session{state: StateDone}, []Effect{Done{}}
		case hal.KeyEnter:
			if s.pin != "" {
				return busy, []Effect{Lookup{PIN: s.pin}}
			}
			if s.picked.Found {
				// Picked from the list: as if looked up.
				return Next(busy, Found{Person: s.picked}, f)
			}
		}
		return s, nil
	}
	return s, nil
}

// scanning is the three scans: scan, lift, scan again.
func scanning(s Session, ev Event, f Facts) (Session, []Effect) {
	switch ev := ev.(type) {
	case Key:
		if ev.Key == hal.KeyClear {
			return result(f, false, "Cancelled", "Not enrolled"), []Effect{Cancel{}, Signal{OK: false}}
		}
	case Scanned:
		if s.state != StateScan || ev.N != s.n {
			return s, nil
		}
		if ev.N == 1 && ev.Owner != "" {
			if ev.Owner == s.employee.Employee {
				return result(f, false, "Already enrolled", s.employee.Name), []Effect{Signal{OK: false}}
			}
			return result(f, false, "Finger enrolled", "to someone else"), []Effect{Signal{OK: false}}
		}
		if ev.N == 3 {
			s.state, s.deadline = StateStoring, time.Time{}
			return s, []Effect{Store{Employee: s.employee.Employee, Supervisor: s.supervisor.Employee, ConsentAt: s.consentAt}}
		}
		s.state, s.n, s.hint, s.deadline = StateLift, ev.N+1, "", f.Now.Add(f.ScanTimeout)
		return s, []Effect{WaitLift{}}
	case ScanFailed:
		switch ev.Fault {
		case FaultSensor:
			return result(f, false, "Sensor error", "Not enrolled"), []Effect{Signal{OK: false}}
		case FaultNotSame:
			s.hint = "Not the same"
		default:
			s.hint = "Press flat"
		}
		// Lift, then the same scan again.
		s.state, s.deadline = StateLift, f.Now.Add(f.ScanTimeout)
		return s, []Effect{WaitLift{}}
	case Lifted:
		if s.state != StateLift {
			return s, nil
		}
		s.state, s.deadline = StateScan, f.Now.Add(f.ScanTimeout)
		return s, []Effect{Scan{N: s.n}}
	}
	return s, nil
}
