package punchflow

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"timeclock/agent/journal"
	"timeclock/hal"
)

var fnow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func testFacts() Facts {
	return Facts{Now: fnow, IdleTimeout: 10 * time.Second, FeedbackTime: 2 * time.Second, DuplicateWindow: time.Minute, RecordUnknownBadges: true}
}

func lastAt(k journal.Kind, ago time.Duration, dept string) *journal.Last {
	return &journal.Last{Seq: 1, Kind: k, Time: fnow.Add(-ago), Department: dept}
}

var ada = Person{Found: true, Employee: "E100", Name: "Ada", Departments: []string{"A", "B", "C"}, Active: true}
var grace = Person{Found: true, Employee: "E101", Name: "Grace", Departments: []string{"A"}, Active: true}

func TestNext(t *testing.T) {
	f := testFacts()
	entry := func(kind journal.Kind, pin string) Session {
		return Session{state: StateEntry, kind: kind, pin: pin, deadline: fnow.Add(10 * time.Second)}
	}
	fb := func(r result) Session {
		return Session{state: StateFeedback, result: r, deadline: fnow.Add(2 * time.Second)}
	}
	busy := Session{state: StateBusy}
	withLast := func(p Person, l *journal.Last) Person { p.Last = l; return p }
	graceIn := journal.Punch{Employee: "E101", Name: "Grace", Kind: journal.KindIn, Department: "A"}
	for _, tc := range []struct {
		name  string
		s     Session
		ev    Event
		want  Session
		effs  []Effect
		facts func(*Facts)
	}{
		{"digit starts a PIN", idle(), KeyPressed{hal.Key4}, entry(0, "4"), nil, nil},
		{"F3 first picks BREAK", idle(), KeyPressed{hal.KeyF3}, entry(journal.KindBreak, ""), nil, nil},
		{"enter on idle does nothing", idle(), KeyPressed{hal.KeyEnter}, idle(), nil, nil},
		{"digits append", entry(0, "12"), KeyPressed{hal.Key3}, entry(0, "123"), nil, nil},
		{"PIN length capped", entry(0, "12345678"), KeyPressed{hal.Key9}, entry(0, "12345678"), nil, nil},
		{"F2 after digits keeps them", entry(0, "12"), KeyPressed{hal.KeyF2}, entry(journal.KindOut, "12"), nil, nil},
		{"clear backs out", entry(journal.KindIn, "12"), KeyPressed{hal.KeyClear}, idle(), nil, nil},
		{"enter looks the PIN up and forgets it", entry(journal.KindLunch, "1234"), KeyPressed{hal.KeyEnter},
			Session{state: StateBusy, kind: journal.KindLunch}, []Effect{Lookup{PIN: "1234"}}, nil},
		{"enter without digits waits", entry(0, ""), KeyPressed{hal.KeyEnter}, entry(0, ""), nil, nil},
		{"timeout returns to idle", entry(0, "1"), Tick{}, idle(), nil, func(f *Facts) { f.Now = fnow.Add(10 * time.Second) }},
		{"early tick keeps entry", entry(0, "1"), Tick{}, entry(0, "1"), nil, func(f *Facts) { f.Now = fnow.Add(9 * time.Second) }},
		{"badge from idle", idle(), BadgeRead{"42"}, busy, []Effect{Lookup{Badge: "42"}}, nil},
		{"badge keeps the chosen kind", entry(journal.KindOut, ""), BadgeRead{"42"}, Session{state: StateBusy, kind: journal.KindOut}, []Effect{Lookup{Badge: "42"}}, nil},
		{"badge ignored while busy", busy, BadgeRead{"42"}, busy, nil, nil},
		{"first punch is IN", busy, Identified{grace}, busy, []Effect{Record{graceIn}}, nil},
		{"after IN comes OUT", busy, Identified{withLast(grace, lastAt(journal.KindIn, time.Hour, "A"))}, busy,
			[]Effect{Record{journal.Punch{Employee: "E101", Name: "Grace", Kind: journal.KindOut, Department: "A"}}}, nil},
		{"after LUNCH comes IN", busy, Identified{withLast(grace, lastAt(journal.KindLunch, time.Hour, "A"))}, busy, []Effect{Record{graceIn}}, nil},
		{"IN older than a shift is forgotten", busy, Identified{withLast(grace, lastAt(journal.KindIn, 17*time.Hour, "A"))}, busy, []Effect{Record{graceIn}}, nil},
		{"override beats inference", Session{state: StateBusy, kind: journal.KindBreak}, Identified{withLast(grace, lastAt(journal.KindOut, time.Hour, "A"))}, busy,
			[]Effect{Record{journal.Punch{Employee: "E101", Name: "Grace", Kind: journal.KindBreak, Department: "A"}}}, nil},
		{"duplicate inside the window", busy, Identified{withLast(grace, lastAt(journal.KindIn, 59*time.Second, "A"))},
			fb(result{out: outDuplicate, name: "Grace", at: fnow.Add(-59 * time.Second)}), []Effect{Signal{false}}, nil},
		{"window off records", busy, Identified{withLast(grace, lastAt(journal.KindIn, time.Second, "A"))}, busy,
			[]Effect{Record{journal.Punch{Employee: "E101", Name: "Grace", Kind: journal.KindOut, Department: "A"}}}, func(f *Facts) { f.DuplicateWindow = 0 }},
		{"inactive refused", busy, Identified{Person{Found: true, Employee: "E9", Name: "Old", Active: false}},
			fb(result{out: outInactive, name: "Old"}), []Effect{Signal{false}}, nil},
		{"unknown PIN", busy, Identified{Person{ViaPIN: true}}, fb(result{out: outUnknownPIN}), []Effect{Signal{false}}, nil},
		{"unknown badge recorded", busy, Identified{Person{Badge: "77"}}, busy, []Effect{Record{journal.Punch{Badge: "77", Kind: journal.KindIn}}}, nil},
		{"unknown badge not recorded when off", busy, Identified{Person{Badge: "77"}}, fb(result{out: outUnknownBadge, badge: "77"}), []Effect{Signal{false}},
			func(f *Facts) { f.RecordUnknownBadges = false }},
		{"unknown badge again inside the window", busy, Identified{Person{Badge: "77", Last: lastAt(journal.KindIn, time.Second, "")}},
			fb(result{out: outUnknownBadge, badge: "77"}), []Effect{Signal{false}}, nil},
		{"several departments: choose, last one first", busy, Identified{withLast(ada, lastAt(journal.KindOut, time.Hour, "B"))},
			Session{state: StateDepartment, kind: journal.KindIn, who: withLast(ada, lastAt(journal.KindOut, time.Hour, "B")), dept: 1, deadline: fnow.Add(10 * time.Second)}, nil, nil},
		{"down wraps", Session{state: StateDepartment, who: ada, dept: 2, kind: journal.KindIn}, KeyPressed{hal.KeyDown},
			Session{state: StateDepartment, who: ada, dept: 0, kind: journal.KindIn, deadline: fnow.Add(10 * time.Second)}, nil, nil},
		{"up wraps", Session{state: StateDepartment, who: ada, dept: 0, kind: journal.KindIn}, KeyPressed{hal.KeyUp},
			Session{state: StateDepartment, who: ada, dept: 2, kind: journal.KindIn, deadline: fnow.Add(10 * time.Second)}, nil, nil},
		{"enter records the department", Session{state: StateDepartment, who: ada, dept: 2, kind: journal.KindOut}, KeyPressed{hal.KeyEnter},
			busy, []Effect{Record{journal.Punch{Employee: "E100", Name: "Ada", Kind: journal.KindOut, Department: "C"}}}, nil},
		{"clear leaves the choice", Session{state: StateDepartment, who: ada}, KeyPressed{hal.KeyClear}, idle(), nil, nil},
		{"recorded: accepted", busy, Recorded{journal.Punch{Employee: "E1", Name: "N", Kind: journal.KindIn}},
			fb(result{out: outAccepted, name: "N", punch: journal.Punch{Employee: "E1", Name: "N", Kind: journal.KindIn}}), []Effect{Signal{true}}, nil},
		{"recorded unassigned: unknown badge", busy, Recorded{journal.Punch{Badge: "77", Kind: journal.KindIn}},
			fb(result{out: outUnknownBadge, badge: "77", punch: journal.Punch{Badge: "77", Kind: journal.KindIn}}), []Effect{Signal{false}}, nil},
		{"full", busy, RecordFailed{Full: true}, fb(result{out: outFull}), []Effect{Signal{false}}, nil},
		{"write error", busy, RecordFailed{}, fb(result{out: outStorageError}), []Effect{Signal{false}}, nil},
		{"feedback times out, LEDs off", fb(result{out: outAccepted}), Tick{}, idle(), []Effect{LEDsOff{}}, func(f *Facts) { f.Now = fnow.Add(2 * time.Second) }},
		{"a digit during feedback starts the next PIN", fb(result{out: outAccepted}), KeyPressed{hal.Key7}, entry(0, "7"), []Effect{LEDsOff{}}, nil},
		{"a badge during feedback punches at once", fb(result{out: outAccepted}), BadgeRead{"5"}, busy, []Effect{Lookup{Badge: "5"}}, nil},
		{"disable", entry(0, "12"), Disabled{}, Session{state: StateDisabled}, []Effect{LEDsOff{}}, nil},
		{"disabled refuses badges", Session{state: StateDisabled}, BadgeRead{"5"}, Session{state: StateDisabled}, []Effect{Signal{false}}, nil},
		{"disabled ignores keys", Session{state: StateDisabled}, KeyPressed{hal.Key1}, Session{state: StateDisabled}, nil, nil},
		{"disabled: F4 asks to set up again", Session{state: StateDisabled}, KeyPressed{hal.KeyF4},
			Session{state: StateDisabled, confirm: true, deadline: fnow.Add(10 * time.Second)}, nil, func(f *Facts) { f.CanOnboard = true }},
		{"disabled: F4 does nothing while it cannot be set up", Session{state: StateDisabled}, KeyPressed{hal.KeyF4},
			Session{state: StateDisabled}, nil, nil},
		{"disabled: Enter confirms", Session{state: StateDisabled, confirm: true}, KeyPressed{hal.KeyEnter},
			Session{state: StateOnboarding}, []Effect{OnboardAgain{}}, func(f *Facts) { f.CanOnboard = true }},
		{"disabled: Enter without the question does nothing", Session{state: StateDisabled}, KeyPressed{hal.KeyEnter},
			Session{state: StateDisabled}, nil, func(f *Facts) { f.CanOnboard = true }},
		{"disabled: Clear backs out", Session{state: StateDisabled, confirm: true}, KeyPressed{hal.KeyClear},
			Session{state: StateDisabled}, nil, func(f *Facts) { f.CanOnboard = true }},
		{"disabled: the question times out", Session{state: StateDisabled, confirm: true, deadline: fnow}, Tick{},
			Session{state: StateDisabled}, nil, func(f *Facts) { f.CanOnboard = true }},
		{"disabled: a badge during the question is refused", Session{state: StateDisabled, confirm: true}, BadgeRead{"5"},
			Session{state: StateDisabled, confirm: true}, []Effect{Signal{false}}, nil},
		{"a matched finger looks its employee up", idle(), FingerRead{"E101", 150}, busy, []Effect{Lookup{Finger: &FingerRead{"E101", 150}}}, nil},
		{"a finger keeps the chosen kind", entry(journal.KindBreak, ""), FingerRead{"E101", 90},
			Session{state: StateBusy, kind: journal.KindBreak}, []Effect{Lookup{Finger: &FingerRead{"E101", 90}}}, nil},
		{"an unknown finger: nothing recorded", idle(), FingerRead{}, fb(result{out: outUnknownFinger}), []Effect{Signal{false}}, nil},
		{"a finger ignored while busy", busy, FingerRead{"E101", 150}, busy, nil, nil},
		{"a finger punch records the score", busy, Identified{Person{Found: true, Employee: "E101", Name: "Grace", Active: true, ViaFinger: true, Score: 150}}, busy,
			[]Effect{Record{journal.Punch{Employee: "E101", Name: "Grace", Kind: journal.KindIn, Finger: true, MatchScore: 150}}}, nil},
		{"a finger of someone gone from the roster", busy, Identified{Person{ViaFinger: true}}, fb(result{out: outUnknownFinger}), []Effect{Signal{false}}, nil},
		{"a finger inside the duplicate window", busy, Identified{Person{Found: true, Employee: "E101", Name: "Grace", Active: true, ViaFinger: true, Score: 150, Last: lastAt(journal.KindIn, time.Second, "")}},
			fb(result{out: outDuplicate, name: "Grace", at: fnow.Add(-time.Second)}), []Effect{Signal{false}}, nil},
		{"# opens enrollment", idle(), KeyPressed{hal.KeyHash}, Session{state: StateEnroll}, []Effect{StartEnroll{}}, func(f *Facts) { f.CanEnroll = true }},
		{"# without a fingerprint module does nothing", idle(), KeyPressed{hal.KeyHash}, idle(), nil, nil},
		{"enrollment keeps the keys", Session{state: StateEnroll}, KeyPressed{hal.Key1}, Session{state: StateEnroll}, nil, nil},
		{"enrollment keeps badges", Session{state: StateEnroll}, BadgeRead{"5"}, Session{state: StateEnroll}, nil, nil},
		{"enrollment done", Session{state: StateEnroll}, EnrollDone{}, idle(), nil, nil},
		{"disable during enrollment", Session{state: StateEnroll}, Disabled{}, Session{state: StateDisabled}, []Effect{LEDsOff{}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f
			if tc.facts != nil {
				tc.facts(&f)
			}
			got, effs := Next(tc.s, tc.ev, f)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Session\n got %+v\nwant %+v", got, tc.want)
			}
			if !reflect.DeepEqual(effs, tc.effs) {
				t.Errorf("effects\n got %#v\nwant %#v", effs, tc.effs)
			}
		})
	}
}

func TestScreensFitEveryDisplay(t *testing.T) {
	loc, _ := time.LoadLocation("America/New_York")
	long := Person{Found: true, Name: "Maximilian Alexander", Departments: []string{"Receiving", "Quality Control"}}
	sessions := map[string]Session{
		"idle":       idle(),
		"entry":      {state: StateEntry, kind: journal.KindLunch, pin: "12345678"},
		"department": {state: StateDepartment, who: long, dept: 1},
		"disabled":   {state: StateDisabled},
		"set up?":    {state: StateDisabled, confirm: true},
	}
	for _, r := range []result{
		{out: outAccepted, name: "Ada", punch: journal.Punch{Kind: journal.KindBreak, Time: fnow, Department: "Assembly"}},
		{out: outUnknownBadge, badge: "12345678901234567890"}, {out: outUnknownPIN}, {out: outInactive, name: "Hedy"},
		{out: outDuplicate, at: fnow, name: "Ada"}, {out: outFull}, {out: outStorageError}, {out: outDisabled}, {out: outUnknownFinger},
	} {
		sessions[fmt.Sprint("feedback ", r.out)] = Session{state: StateFeedback, result: r}
	}
	notes := [][]string{nil, {"Storage 85% full"}, {"Storage recovered,", "call service", "Storage FULL,", "call service"}}
	for _, geo := range [][2]int{{16, 2}, {20, 4}, {21, 8}} {
		cols, rows := geo[0], geo[1]
		for name, s := range sessions {
			for _, n := range notes {
				if cols < 18 && len(n) > 1 {
					n = []string{"Data recovered,", "call service"}
				}
				for _, now := range []time.Time{fnow, fnow.Add(4 * time.Second)} {
					lines := Screen(s, View{Now: now.In(loc), Cols: cols, Rows: rows, Idle: IdleView{Cloud: "standalone", Pending: 199999, Notices: n}})
					if len(lines) > rows {
						t.Errorf("%dx%d %s: %d lines", cols, rows, name, len(lines))
					}
					for _, l := range lines {
						if len([]rune(l)) > cols && !strings.Contains(l, "Maximilian") && !strings.Contains(l, "Quality") {
							t.Errorf("%dx%d %s: line %q too wide", cols, rows, name, l)
						}
					}
				}
			}
		}
	}
}

func TestFeedbackWording(t *testing.T) {
	loc, _ := time.LoadLocation("America/New_York")
	v := func(cols, rows int) View { return View{Now: fnow.In(loc), Cols: cols, Rows: rows} }
	for _, tc := range []struct {
		r          result
		cols, rows int
		want       []string
	}{
		{result{out: outAccepted, name: "Ada Lovelace", punch: journal.Punch{Kind: journal.KindIn, Time: fnow, Department: "Shipping"}}, 20, 4,
			[]string{"IN             04:00", "Ada Lovelace", "Shipping"}},
		{result{out: outAccepted, name: "Ada Lovelace", punch: journal.Punch{Kind: journal.KindLunch, Time: fnow}}, 16, 2,
			[]string{"LUNCH      04:00", "Ada Lovelace"}},
		{result{out: outDuplicate, name: "Ada", at: fnow}, 21, 8, []string{"Already punched 04:00", "Ada"}},
		{result{out: outDuplicate, name: "Ada", at: fnow}, 16, 2, []string{"Already punched", "04:00"}},
		{result{out: outInactive, name: "Hedy"}, 20, 4, []string{"Not active,", "see manager", "Hedy"}},
		{result{out: outUnknownBadge, badge: "99"}, 16, 2, []string{"Unknown badge", "99"}},
	} {
		if got := feedbackScreen(tc.r, v(tc.cols, tc.rows)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v on %dx%d: %q, want %q", tc.r.out, tc.cols, tc.rows, got, tc.want)
		}
	}
}
