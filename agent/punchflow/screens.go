package punchflow

import (
	"fmt"
	"strings"
	"time"
)

// The punch flow's screens. Each fits 16x2, 20x4 and 21x8: lines are
// written for 16 columns where they must be, and longer text is wrapped at
// words by wrap.

// View is what a screen shows besides the session: the local time, the
// display's size, and what the idle and disabled screens report.
type View struct {
	Now        time.Time // local time
	Cols, Rows int
	Idle       IdleView
	Disabled   DisabledView
}

// DisabledView is what the disabled screen shows besides its title.
type DisabledView struct {
	Sending    int  // punches still going out in the last transmission
	CanOnboard bool // F4 sets the clock up again
}

// Screen renders the session; nil means "leave the screen as it is".
func Screen(s Session, v View) []string {
	switch s.state {
	case StateIdle:
		return idleScreen(v.Now, v.Cols, v.Rows, v.Idle)
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

func kindLabel(s Session) string {
	if s.kind != 0 {
		return "Punch " + s.kind.String()
	}
	return "Enter PIN"
}

func entryScreen(s Session, v View) []string {
	second := "Badge or PIN"
	if s.pin != "" {
		second = "PIN: " + strings.Repeat("*", len(s.pin))
	}
	return fitRows(v.Rows, kindLabel(s), second, "", "Enter=OK Clear=back")
}

func departmentScreen(s Session, v View) []string {
	n := len(s.who.Departments)
	head := fmt.Sprintf("Department %d/%d", s.dept+1, n)
	choice := "> " + s.who.Departments[s.dept]
	if v.Rows < 4 {
		return []string{head, choice}
	}
	return fitRows(v.Rows, s.who.Name, head, choice, "Up/Down Enter=OK")
}

func feedbackScreen(r result, v View) []string {
	hm := func(t time.Time) string { return t.In(v.Now.Location()).Format("15:04") }
	var lines []string
	switch r.out {
	case outAccepted:
		lines = []string{spread(r.punch.Kind.String(), hm(r.punch.Time), v.Cols), r.name, r.punch.Department}
	case outUnknownBadge:
		b := []rune(r.badge) // the last digits tell badges apart
		lines = []string{"Unknown badge", string(b[max(0, len(b)-v.Cols):])}
	case outUnknownPIN:
		lines = []string{"Unknown PIN", "Try again"}
	case outUnknownFinger:
		lines = []string{"Unknown finger", "Try again or PIN"}
	case outInactive:
		lines = []string{"Not active,", "see manager", r.name}
		if v.Cols >= len("Not active, see manager") {
			lines = []string{"Not active, see manager", r.name}
		}
	case outDuplicate:
		lines = append(wrap("Already punched "+hm(r.at), v.Cols), r.name)
	case outFull:
		lines = []string{"Storage FULL", "Punch NOT saved", "Call service"}
	case outStorageError:
		lines = []string{"Storage error", "Punch NOT saved", "Call service"}
	case outDisabled:
		lines = []string{"Disabled by", "administrator"}
	}
	return fitRows(v.Rows, lines...)
}

// disabledScreen: "Disabled by administrator", the punches still being sent
// in the last transmission, and how to set the clock up again. A 2-line
// display shows the extra lines in turn with the title.
func disabledScreen(s Session, v View) []string {
	if s.confirm {
		return fitRows(v.Rows, "Set up again?", "Enter=yes Clr=no")
	}
	title := []string{"Disabled by", "administrator"}
	var extra []string
	if n := v.Disabled.Sending; n > 0 {
		line := fmt.Sprintf("Sending %d punches", n)
		if len(line) > v.Cols {
			line = fmt.Sprintf("Sending %d", n)
		}
		extra = append(extra, line)
	}
	if v.Disabled.CanOnboard {
		extra = append(extra, "F4: set up again")
	}
	if v.Rows < 4 {
		if len(extra) > 0 && (v.Now.Unix()/int64(NoticeEvery/time.Second))%2 == 1 {
			return fitRows(v.Rows, extra...)
		}
		return title
	}
	lines := title
	for len(lines)+len(extra) < v.Rows {
		lines = append(lines, "")
	}
	return fitRows(v.Rows, append(lines, extra...)...)
}
