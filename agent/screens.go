package agent

import (
	"fmt"
	"strings"
	"time"
)

// The punch flow's screens. Each fits 16x2, 20x4 and 21x8: lines are
// written for 16 columns where they must be, and longer text is wrapped at
// words by wrap.

// viewFacts is what a screen shows besides the session.
type viewFacts struct {
	now        time.Time // local time
	cols, rows int
	idle       idleView
	disabled   disabledView
}

// disabledView is what the disabled screen shows besides its title.
type disabledView struct {
	Sending    int  // punches still going out in the last transmission
	CanOnboard bool // F4 sets the clock up again
}

// screen renders the session; nil means "leave the screen as it is".
func screen(s session, v viewFacts) []string {
	switch s.state {
	case StateStarting, StateIdle:
		return idleScreen(v.now, v.cols, v.rows, v.idle)
	case StateEntry:
		return entryScreen(s, v)
	case StateDepartment:
		return departmentScreen(s, v)
	case StateFeedback:
		return feedbackScreen(s.result, v)
	case StateDisabled:
		return disabledScreen(s, v)
	}
	return nil
}

// fitRows keeps the first rows lines.
func fitRows(rows int, lines ...string) []string {
	if len(lines) > rows {
		lines = lines[:rows]
	}
	return lines
}

// wrap breaks text at spaces into lines of at most cols.
func wrap(text string, cols int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(text) {
		switch {
		case cur == "":
			cur = w
		case len([]rune(cur))+1+len([]rune(w)) <= cols:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	return append(lines, cur)
}

func kindLabel(s session) string {
	if s.kind != 0 {
		return "Punch " + s.kind.String()
	}
	return "Enter PIN"
}

func entryScreen(s session, v viewFacts) []string {
	second := "Badge or PIN"
	if s.pin != "" {
		second = "PIN: " + strings.Repeat("*", len(s.pin))
	}
	return fitRows(v.rows, kindLabel(s), second, "", "Enter=OK Clear=back")
}

func departmentScreen(s session, v viewFacts) []string {
	n := len(s.who.Departments)
	head := fmt.Sprintf("Department %d/%d", s.dept+1, n)
	choice := "> " + s.who.Departments[s.dept]
	if v.rows < 4 {
		return []string{head, choice}
	}
	return fitRows(v.rows, s.who.Name, head, choice, "Up/Down Enter=OK")
}

func feedbackScreen(r result, v viewFacts) []string {
	hm := func(t time.Time) string { return t.In(v.now.Location()).Format("15:04") }
	var lines []string
	switch r.out {
	case outAccepted:
		lines = []string{spread(r.punch.Kind.String(), hm(r.punch.Time), v.cols), r.name, r.punch.Department}
	case outUnknownBadge:
		b := []rune(r.badge) // the last digits tell badges apart
		lines = []string{"Unknown badge", string(b[max(0, len(b)-v.cols):])}
	case outUnknownPIN:
		lines = []string{"Unknown PIN", "Try again"}
	case outInactive:
		lines = []string{"Not active,", "see manager", r.name}
		if v.cols >= len("Not active, see manager") {
			lines = []string{"Not active, see manager", r.name}
		}
	case outDuplicate:
		lines = append(wrap("Already punched "+hm(r.at), v.cols), r.name)
	case outFull:
		lines = []string{"Storage FULL", "Punch NOT saved", "Call service"}
	case outStorageError:
		lines = []string{"Storage error", "Punch NOT saved", "Call service"}
	case outDisabled:
		lines = []string{"Disabled by", "administrator"}
	}
	return fitRows(v.rows, lines...)
}

// disabledScreen: "Disabled by administrator", the punches still being sent
// in the last transmission, and how to set the clock up again. A 2-line
// display shows the extra lines in turn with the title.
func disabledScreen(s session, v viewFacts) []string {
	if s.confirm {
		return fitRows(v.rows, "Set up again?", "Enter=yes Clr=no")
	}
	title := []string{"Disabled by", "administrator"}
	var extra []string
	if n := v.disabled.Sending; n > 0 {
		line := fmt.Sprintf("Sending %d punches", n)
		if len(line) > v.cols {
			line = fmt.Sprintf("Sending %d", n)
		}
		extra = append(extra, line)
	}
	if v.disabled.CanOnboard {
		extra = append(extra, "F4: set up again")
	}
	if v.rows < 4 {
		if len(extra) > 0 && (v.now.Unix()/int64(noticeEvery/time.Second))%2 == 1 {
			return fitRows(v.rows, extra...)
		}
		return title
	}
	lines := title
	for len(lines)+len(extra) < v.rows {
		lines = append(lines, "")
	}
	return fitRows(v.rows, append(lines, extra...)...)
}
