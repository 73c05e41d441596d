package enrollflow

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"timeclock/hal"
)

var fnow = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

func facts() Facts {
	return Facts{Now: fnow, IdleTimeout: 10 * time.Second, ScanTimeout: 20 * time.Second, FeedbackTime: 2 * time.Second}
}

var (
	boss = Person{Found: true, Employee: "S1", Name: "Sam Boss", Active: true, Supervisor: true}
	ada  = Person{Found: true, Employee: "E100", Name: "Ada", Active: true}
)

func TestNext(t *testing.T) {
	idle := 10 * time.Second
	scanT := 20 * time.Second
	sup := Session{state: StateSupervisor, deadline: fnow.Add(idle)}
	emp := Session{state: StateEmployee, supervisor: boss, deadline: fnow.Add(idle)}
	consent := Session{state: StateConsent, supervisor: boss, employee: ada, deadline: fnow.Add(idle)}
	scan := func(n int, hint string) Session {
		return Session{state: StateScan, supervisor: boss, employee: ada, consentAt: fnow, n: n, hint: hint, deadline: fnow.Add(scanT)}
	}
	lift := func(next int, hint string) Session {
		return Session{state: StateLift, supervisor: boss, employee: ada, consentAt: fnow, n: next, hint: hint, deadline: fnow.Add(scanT)}
	}
	res := func(ok bool, msg ...string) Session {
		return Session{state: StateResult, ok: ok, msg: msg, deadline: fnow.Add(2 * time.Second)}
	}
	done := Session{state: StateDone}
	for _, tc := range []struct {
		name string
		s    Session
		ev   Event
		want Session
		effs []Effect
		now  time.Time
	}{
		{"start asks for the supervisor", Start(facts()), Key{hal.Key1}, Session{state: StateSupervisor, pin: "1", deadline: fnow.Add(idle)}, nil, fnow},
		{"supervisor PIN looked up", Session{state: StateSupervisor, pin: "9999"}, Key{hal.KeyEnter}, Session{state: StateCheckSupervisor}, []Effect{Lookup{PIN: "9999"}}, fnow},
		{"supervisor badge looked up", sup, Badge{"10009"}, Session{state: StateCheckSupervisor}, []Effect{Lookup{Badge: "10009"}}, fnow},
		{"enter without digits waits", sup, Key{hal.KeyEnter}, sup, nil, fnow},
		{"clear forgets digits", Session{state: StateSupervisor, pin: "12"}, Key{hal.KeyClear}, sup, nil, fnow},
		{"clear with no digits cancels", sup, Key{hal.KeyClear}, done, []Effect{Done{}}, fnow},
		{"idle timeout cancels", sup, Tick{}, done, []Effect{Done{}}, fnow.Add(idle)},
		{"early tick does nothing", sup, Tick{}, sup, nil, fnow.Add(idle - time.Millisecond)},
		{"a supervisor goes on", Session{state: StateCheckSupervisor}, Found{boss}, emp, nil, fnow},
		{"not a supervisor", Session{state: StateCheckSupervisor}, Found{ada}, res(false, "Not a supervisor"), []Effect{Signal{false}}, fnow},
		{"unknown badge is not a supervisor", Session{state: StateCheckSupervisor}, Found{Person{}}, res(false, "Not a supervisor"), []Effect{Signal{false}}, fnow},
		{"an inactive supervisor", Session{state: StateCheckSupervisor}, Found{Person{Found: true, Employee: "S2", Supervisor: true}}, res(false, "Not a supervisor"), []Effect{Signal{false}}, fnow},
		{"employee badge looked up", emp, Badge{"10001"}, Session{state: StateCheckEmployee, supervisor: boss}, []Effect{Lookup{Badge: "10001"}}, fnow},
		{"employee PIN looked up", Session{state: StateEmployee, supervisor: boss, pin: "1234"}, Key{hal.KeyEnter}, Session{state: StateCheckEmployee, supervisor: boss}, []Effect{Lookup{PIN: "1234"}}, fnow},
		{"unknown employee: asked again", Session{state: StateCheckEmployee, supervisor: boss}, Found{Person{}},
			Session{state: StateEmployee, supervisor: boss, hint: "Unknown, again", deadline: fnow.Add(idle)}, []Effect{Signal{false}}, fnow},
		{"inactive employee refused", Session{state: StateCheckEmployee, supervisor: boss}, Found{Person{Found: true, Employee: "E9", Name: "Old"}}, res(false, "Not active", "Old"), []Effect{Signal{false}}, fnow},
		{"the employee found: consent asked", Session{state: StateCheckEmployee, supervisor: boss}, Found{ada}, consent, nil, fnow},
		{"Up browses the roster from its end", emp, Key{hal.KeyUp}, emp, []Effect{Browse{From: "", Step: -1}}, fnow},
		{"Down browses from its start", emp, Key{hal.KeyDown}, emp, []Effect{Browse{From: "", Step: 1}}, fnow},
		{"the browsed employee is shown", emp, Browsed{ada}, Session{state: StateEmployee, supervisor: boss, picked: ada, deadline: fnow.Add(idle)}, nil, fnow},
		{"Down goes on from the one shown", Session{state: StateEmployee, supervisor: boss, picked: ada, deadline: fnow.Add(idle)}, Key{hal.KeyDown},
			Session{state: StateEmployee, supervisor: boss, picked: ada, deadline: fnow.Add(idle)}, []Effect{Browse{From: "E100", Step: 1}}, fnow},
		{"Enter picks the one shown: consent asked", Session{state: StateEmployee, supervisor: boss, picked: ada}, Key{hal.KeyEnter}, consent, nil, fnow},
		{"an empty roster shows nobody", emp, Browsed{Person{}}, emp, nil, fnow},
		{"Clear drops the one shown", Session{state: StateEmployee, supervisor: boss, picked: ada}, Key{hal.KeyClear}, emp, nil, fnow},
		{"a digit drops the one shown", Session{state: StateEmployee, supervisor: boss, picked: ada}, Key{hal.Key4},
			Session{state: StateEmployee, supervisor: boss, pin: "4", deadline: fnow.Add(idle)}, nil, fnow},
		{"Up does not browse for the supervisor", sup, Key{hal.KeyUp}, sup, nil, fnow},
		{"consent given: scan 1", consent, Key{hal.KeyEnter}, scan(1, ""), []Effect{Scan{1}}, fnow},
		{"consent refused", consent, Key{hal.KeyClear}, res(false, "No consent", "Not enrolled"), []Effect{Signal{false}}, fnow},
		{"consent not answered", consent, Tick{}, done, []Effect{Done{}}, fnow.Add(idle)},
		{"a badge does not answer the consent", consent, Badge{"1"}, consent, nil, fnow},
		{"scan 1 of a new finger: lift", scan(1, ""), Scanned{N: 1}, lift(2, ""), []Effect{WaitLift{}}, fnow},
		{"lifted: again 2/3", lift(2, ""), Lifted{}, scan(2, ""), []Effect{Scan{2}}, fnow},
		{"scan 2: lift", scan(2, ""), Scanned{N: 2}, lift(3, ""), []Effect{WaitLift{}}, fnow},
		{"scan 3: store with the consent", scan(3, ""), Scanned{N: 3},
			Session{state: StateStoring, supervisor: boss, employee: ada, consentAt: fnow, n: 3}, []Effect{Store{Employee: "E100", Supervisor: "S1", ConsentAt: fnow}}, fnow},
		{"stored: enrolled", Session{state: StateStoring, employee: ada}, Stored{}, res(true, "Enrolled", "Ada"), []Effect{Signal{true}}, fnow},
		{"the module full", Session{state: StateStoring, employee: ada}, StoreFailed{Full: true}, res(false, "Sensor full", "Not enrolled"), []Effect{Signal{false}}, fnow},
		{"store failed", Session{state: StateStoring, employee: ada}, StoreFailed{}, res(false, "Sensor error", "Not enrolled"), []Effect{Signal{false}}, fnow},
		{"a finger already someone else's is refused", scan(1, ""), Scanned{N: 1, Owner: "E200"}, res(false, "Finger enrolled", "to someone else"), []Effect{Signal{false}}, fnow},
		{"a finger already the employee's", scan(1, ""), Scanned{N: 1, Owner: "E100"}, res(false, "Already enrolled", "Ada"), []Effect{Signal{false}}, fnow},
		{"scan 2 of another finger: lift and scan 2 again", scan(2, ""), ScanFailed{FaultNotSame}, lift(2, "Not the same"), []Effect{WaitLift{}}, fnow},
		{"scan 3 of another finger: scan 3 again", scan(3, ""), ScanFailed{FaultNotSame}, lift(3, "Not the same"), []Effect{WaitLift{}}, fnow},
		{"a poor image: again", scan(1, ""), ScanFailed{FaultImage}, lift(1, "Press flat"), []Effect{WaitLift{}}, fnow},
		{"the hint stays until the next scan", lift(2, "Not the same"), Lifted{}, scan(2, "Not the same"), []Effect{Scan{2}}, fnow},
		{"a sensor failure ends it", scan(2, ""), ScanFailed{FaultSensor}, res(false, "Sensor error", "Not enrolled"), []Effect{Signal{false}}, fnow},
		{"clear during a scan cancels it", scan(2, ""), Key{hal.KeyClear}, res(false, "Cancelled", "Not enrolled"), []Effect{Cancel{}, Signal{false}}, fnow},
		{"clear while lifting cancels", lift(3, ""), Key{hal.KeyClear}, res(false, "Cancelled", "Not enrolled"), []Effect{Cancel{}, Signal{false}}, fnow},
		{"no finger in time", scan(2, ""), Tick{}, Session{state: StateResult, msg: []string{"Timed out", "Not enrolled"}, deadline: fnow.Add(scanT + 2*time.Second)}, []Effect{Cancel{}, Signal{false}}, fnow.Add(scanT)},
		{"a stale scan answer is ignored", scan(2, ""), Scanned{N: 1}, scan(2, ""), nil, fnow},
		{"lifted while scanning is ignored", scan(2, ""), Lifted{}, scan(2, ""), nil, fnow},
		{"the result times out", res(true, "Enrolled", "Ada"), Tick{}, done, []Effect{Done{}}, fnow.Add(2 * time.Second)},
		{"a key ends the result", res(false, "Cancelled"), Key{hal.Key5}, done, []Effect{Done{}}, fnow},
		{"done stays done", done, Key{hal.KeyEnter}, done, nil, fnow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := facts()
			f.Now = tc.now
			got, effs := Next(tc.s, tc.ev, f)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("session\n got %+v\nwant %+v", got, tc.want)
			}
			if !reflect.DeepEqual(effs, tc.effs) {
				t.Errorf("effects\n got %#v\nwant %#v", effs, tc.effs)
			}
		})
	}
}

// TestThreeScans walks a whole enrollment and checks the guidance the
// screen gives at each step.
func TestThreeScans(t *testing.T) {
	f := facts()
	s := Start(f)
	var screens []string
	step := func(ev Event) []Effect {
		var effs []Effect
		s, effs = Next(s, ev, f)
		if lines := Screen(s, 16, 2); lines != nil {
			screens = append(screens, strings.Join(lines, "|"))
		}
		return effs
	}
	step(Badge{"S"})
	step(Found{boss})
	step(Badge{"A"})
	step(Found{ada})
	step(Key{hal.KeyEnter})
	for n := 1; n <= 3; n++ {
		step(Scanned{N: n})
		if n < 3 {
			step(Lifted{})
		}
	}
	if effs := step(Stored{}); !reflect.DeepEqual(effs, []Effect{Signal{true}}) {
		t.Fatalf("stored: %v", effs)
	}
	want := []string{"Employee badge|or PIN, Up/Down", "Ada|Consent? Enter", "Place finger|Ada", "Lift finger|Ada", "Again 2/3|Ada", "Lift finger|Ada", "Again 3/3|Ada", "Enrolled|Ada"}
	if !reflect.DeepEqual(screens, want) {
		t.Errorf("screens\n got %q\nwant %q", screens, want)
	}
}

// TestScreensFit: every screen fits 16x2, 20x4 and 21x8, and a PIN never
// shows.
func TestScreensFit(t *testing.T) {
	long := Person{Found: true, Employee: "E1", Name: "Maximilian Alexander von Humboldt", Active: true}
	for _, s := range []Session{
		Start(facts()), {state: StateSupervisor, pin: "12345678"}, {state: StateEmployee, hint: "Unknown, again"},
		{state: StateConsent, employee: long}, {state: StateScan, n: 2, employee: long}, {state: StateLift, hint: "Not the same"},
		{state: StateResult, msg: []string{"Finger enrolled", "to someone else"}},
	} {
		for _, g := range [][2]int{{16, 2}, {20, 4}, {21, 8}} {
			lines := Screen(s, g[0], g[1])
			if len(lines) == 0 || len(lines) > g[1] {
				t.Errorf("%v on %dx%d: %q", s.state, g[0], g[1], lines)
			}
			for _, l := range lines {
				if len([]rune(l)) > g[0] || strings.Contains(l, "1234") {
					t.Errorf("%v on %dx%d: line %q", s.state, g[0], g[1], l)
				}
			}
		}
	}
}
