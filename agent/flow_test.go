package agent

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

func testFacts() facts {
	return facts{now: fnow, idleTimeout: 10 * time.Second, feedbackTime: 2 * time.Second, dupWindow: time.Minute, recordUnknown: true}
}

func lastAt(k journal.Kind, ago time.Duration, dept string) *journal.Last {
	return &journal.Last{Seq: 1, Kind: k, Time: fnow.Add(-ago), Department: dept}
}

var ada = person{Found: true, Employee: "E100", Name: "Ada", Departments: []string{"A", "B", "C"}, Active: true}
var grace = person{Found: true, Employee: "E101", Name: "Grace", Departments: []string{"A"}, Active: true}

func TestNext(t *testing.T) {
	f := testFacts()
	entry := func(kind journal.Kind, pin string) session {
		return session{state: StateEntry, kind: kind, pin: pin, deadline: fnow.Add(10 * time.Second)}
	}
	fb := func(r result) session {
		return session{state: StateFeedback, result: r, deadline: fnow.Add(2 * time.Second)}
	}
	busy := session{state: StateBusy}
	withLast := func(p person, l *journal.Last) person { p.Last = l; return p }
	graceIn := journal.Punch{Employee: "E101", Name: "Grace", Kind: journal.KindIn, Department: "A"}
	for _, tc := range []struct {
		name  string
		s     session
		ev    event
		want  session
		effs  []effect
		facts func(*facts)
	}{
		{"digit starts a PIN", idle(), keyPressed{hal.Key4}, entry(0, "4"), nil, nil},
		{"F3 first picks BREAK", idle(), keyPressed{hal.KeyF3}, entry(journal.KindBreak, ""), nil, nil},
		{"enter on idle does nothing", idle(), keyPressed{hal.KeyEnter}, idle(), nil, nil},
		{"digits append", entry(0, "12"), keyPressed{hal.Key3}, entry(0, "123"), nil, nil},
		{"PIN length capped", entry(0, "12345678"), keyPressed{hal.Key9}, entry(0, "12345678"), nil, nil},
		{"F2 after digits keeps them", entry(0, "12"), keyPressed{hal.KeyF2}, entry(journal.KindOut, "12"), nil, nil},
		{"clear backs out", entry(journal.KindIn, "12"), keyPressed{hal.KeyClear}, idle(), nil, nil},
		{"enter looks the PIN up and forgets it", entry(journal.KindLunch, "1234"), keyPressed{hal.KeyEnter},
			session{state: StateBusy, kind: journal.KindLunch}, []effect{lookup{pin: "1234"}}, nil},
		{"enter without digits waits", entry(0, ""), keyPressed{hal.KeyEnter}, entry(0, ""), nil, nil},
		{"timeout returns to idle", entry(0, "1"), tick{}, idle(), nil, func(f *facts) { f.now = fnow.Add(10 * time.Second) }},
		{"early tick keeps entry", entry(0, "1"), tick{}, entry(0, "1"), nil, func(f *facts) { f.now = fnow.Add(9 * time.Second) }},
		{"badge from idle", idle(), badgeRead{"42"}, busy, []effect{lookup{badge: "42"}}, nil},
		{"badge keeps the chosen kind", entry(journal.KindOut, ""), badgeRead{"42"}, session{state: StateBusy, kind: journal.KindOut}, []effect{lookup{badge: "42"}}, nil},
		{"badge ignored while busy", busy, badgeRead{"42"}, busy, nil, nil},
		{"first punch is IN", busy, identified{grace}, busy, []effect{record{graceIn}}, nil},
		{"after IN comes OUT", busy, identified{withLast(grace, lastAt(journal.KindIn, time.Hour, "A"))}, busy,
			[]effect{record{journal.Punch{Employee: "E101", Name: "Grace", Kind: journal.KindOut, Department: "A"}}}, nil},
		{"after LUNCH comes IN", busy, identified{withLast(grace, lastAt(journal.KindLunch, time.Hour, "A"))}, busy, []effect{record{graceIn}}, nil},
		{"IN older than a shift is forgotten", busy, identified{withLast(grace, lastAt(journal.KindIn, 17*time.Hour, "A"))}, busy, []effect{record{graceIn}}, nil},
		{"override beats inference", session{state: StateBusy, kind: journal.KindBreak}, identified{withLast(grace, lastAt(journal.KindOut, time.Hour, "A"))}, busy,
			[]effect{record{journal.Punch{Employee: "E101", Name: "Grace", Kind: journal.KindBreak, Department: "A"}}}, nil},
		{"duplicate inside the window", busy, identified{withLast(grace, lastAt(journal.KindIn, 59*time.Second, "A"))},
			fb(result{out: outDuplicate, name: "Grace", at: fnow.Add(-59 * time.Second)}), []effect{signal{false}}, nil},
		{"window off records", busy, identified{withLast(grace, lastAt(journal.KindIn, time.Second, "A"))}, busy,
			[]effect{record{journal.Punch{Employee: "E101", Name: "Grace", Kind: journal.KindOut, Department: "A"}}}, func(f *facts) { f.dupWindow = 0 }},
		{"inactive refused", busy, identified{person{Found: true, Employee: "E9", Name: "Old", Active: false}},
			fb(result{out: outInactive, name: "Old"}), []effect{signal{false}}, nil},
		{"unknown PIN", busy, identified{person{ViaPIN: true}}, fb(result{out: outUnknownPIN}), []effect{signal{false}}, nil},
		{"unknown badge recorded", busy, identified{person{Badge: "77"}}, busy, []effect{record{journal.Punch{Badge: "77", Kind: journal.KindIn}}}, nil},
		{"unknown badge not recorded when off", busy, identified{person{Badge: "77"}}, fb(result{out: outUnknownBadge, badge: "77"}), []effect{signal{false}},
			func(f *facts) { f.recordUnknown = false }},
		{"unknown badge again inside the window", busy, identified{person{Badge: "77", Last: lastAt(journal.KindIn, time.Second, "")}},
			fb(result{out: outUnknownBadge, badge: "77"}), []effect{signal{false}}, nil},
		{"several departments: choose, last one first", busy, identified{withLast(ada, lastAt(journal.KindOut, time.Hour, "B"))},
			session{state: StateDepartment, kind: journal.KindIn, who: withLast(ada, lastAt(journal.KindOut, time.Hour, "B")), dept: 1, deadline: fnow.Add(10 * time.Second)}, nil, nil},
		{"down wraps", session{state: StateDepartment, who: ada, dept: 2, kind: journal.KindIn}, keyPressed{hal.KeyDown},
			session{state: StateDepartment, who: ada, dept: 0, kind: journal.KindIn, deadline: fnow.Add(10 * time.Second)}, nil, nil},
		{"up wraps", session{state: StateDepartment, who: ada, dept: 0, kind: journal.KindIn}, keyPressed{hal.KeyUp},
			session{state: StateDepartment, who: ada, dept: 2, kind: journal.KindIn, deadline: fnow.Add(10 * time.Second)}, nil, nil},
		{"enter records the department", session{state: StateDepartment, who: ada, dept: 2, kind: journal.KindOut}, keyPressed{hal.KeyEnter},
			busy, []effect{record{journal.Punch{Employee: "E100", Name: "Ada", Kind: journal.KindOut, Department: "C"}}}, nil},
		{"clear leaves the choice", session{state: StateDepartment, who: ada}, keyPressed{hal.KeyClear}, idle(), nil, nil},
		{"recorded: accepted", busy, recorded{journal.Punch{Employee: "E1", Name: "N", Kind: journal.KindIn}},
			fb(result{out: outAccepted, name: "N", punch: journal.Punch{Employee: "E1", Name: "N", Kind: journal.KindIn}}), []effect{signal{true}}, nil},
		{"recorded unassigned: unknown badge", busy, recorded{journal.Punch{Badge: "77", Kind: journal.KindIn}},
			fb(result{out: outUnknownBadge, badge: "77", punch: journal.Punch{Badge: "77", Kind: journal.KindIn}}), []effect{signal{false}}, nil},
		{"full", busy, recordFailed{full: true}, fb(result{out: outFull}), []effect{signal{false}}, nil},
		{"write error", busy, recordFailed{}, fb(result{out: outStorageError}), []effect{signal{false}}, nil},
		{"feedback times out, LEDs off", fb(result{out: outAccepted}), tick{}, idle(), []effect{ledsOff{}}, func(f *facts) { f.now = fnow.Add(2 * time.Second) }},
		{"a digit during feedback starts the next PIN", fb(result{out: outAccepted}), keyPressed{hal.Key7}, entry(0, "7"), []effect{ledsOff{}}, nil},
		{"a badge during feedback punches at once", fb(result{out: outAccepted}), badgeRead{"5"}, busy, []effect{lookup{badge: "5"}}, nil},
		{"disable", entry(0, "12"), setDisabled{true}, session{state: StateDisabled}, []effect{ledsOff{}}, nil},
		{"disabled refuses badges", session{state: StateDisabled}, badgeRead{"5"}, session{state: StateDisabled}, []effect{signal{false}}, nil},
		{"disabled ignores keys", session{state: StateDisabled}, keyPressed{hal.Key1}, session{state: StateDisabled}, nil, nil},
		{"enable", session{state: StateDisabled}, setDisabled{false}, idle(), nil, nil},
		{"disabled: F4 asks to set up again", session{state: StateDisabled}, keyPressed{hal.KeyF4},
			session{state: StateDisabled, confirm: true, deadline: fnow.Add(10 * time.Second)}, nil, func(f *facts) { f.canOnboard = true }},
		{"disabled: F4 does nothing while it cannot be set up", session{state: StateDisabled}, keyPressed{hal.KeyF4},
			session{state: StateDisabled}, nil, nil},
		{"disabled: Enter confirms", session{state: StateDisabled, confirm: true}, keyPressed{hal.KeyEnter},
			session{state: StateOnboarding}, []effect{onboardAgain{}}, func(f *facts) { f.canOnboard = true }},
		{"disabled: Enter without the question does nothing", session{state: StateDisabled}, keyPressed{hal.KeyEnter},
			session{state: StateDisabled}, nil, func(f *facts) { f.canOnboard = true }},
		{"disabled: Clear backs out", session{state: StateDisabled, confirm: true}, keyPressed{hal.KeyClear},
			session{state: StateDisabled}, nil, func(f *facts) { f.canOnboard = true }},
		{"disabled: the question times out", session{state: StateDisabled, confirm: true, deadline: fnow}, tick{},
			session{state: StateDisabled}, nil, func(f *facts) { f.canOnboard = true }},
		{"disabled: a badge during the question is refused", session{state: StateDisabled, confirm: true}, badgeRead{"5"},
			session{state: StateDisabled, confirm: true}, []effect{signal{false}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f
			if tc.facts != nil {
				tc.facts(&f)
			}
			got, effs := next(tc.s, tc.ev, f)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("session\n got %+v\nwant %+v", got, tc.want)
			}
			if !reflect.DeepEqual(effs, tc.effs) {
				t.Errorf("effects\n got %#v\nwant %#v", effs, tc.effs)
			}
		})
	}
}

func TestScreensFitEveryDisplay(t *testing.T) {
	loc, _ := time.LoadLocation("America/New_York")
	long := person{Found: true, Name: "Maximilian Alexander", Departments: []string{"Receiving", "Quality Control"}}
	sessions := map[string]session{
		"idle":       idle(),
		"entry":      {state: StateEntry, kind: journal.KindLunch, pin: "12345678"},
		"department": {state: StateDepartment, who: long, dept: 1},
		"disabled":   {state: StateDisabled},
		"set up?":    {state: StateDisabled, confirm: true},
	}
	for _, r := range []result{
		{out: outAccepted, name: "Ada", punch: journal.Punch{Kind: journal.KindBreak, Time: fnow, Department: "Assembly"}},
		{out: outUnknownBadge, badge: "12345678901234567890"}, {out: outUnknownPIN}, {out: outInactive, name: "Hedy"},
		{out: outDuplicate, at: fnow, name: "Ada"}, {out: outFull}, {out: outStorageError}, {out: outDisabled},
	} {
		sessions[fmt.Sprint("feedback ", r.out)] = session{state: StateFeedback, result: r}
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
					lines := screen(s, viewFacts{now: now.In(loc), cols: cols, rows: rows, idle: idleView{Cloud: "standalone", Pending: 199999, Notices: n}})
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
	v := func(cols, rows int) viewFacts { return viewFacts{now: fnow.In(loc), cols: cols, rows: rows} }
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
