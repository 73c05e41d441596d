package punchflow

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"timeclock/agent/journal"
)

// center pads s to sit in the middle of cols cells.
func center(s string, cols int) string {
	n := len([]rune(s))
	if n >= cols {
		return s
	}
	return strings.Repeat(" ", (cols-n)/2) + s
}

// spread puts left and right at the two ends of a cols-wide line, cutting
// left when both do not fit.
func spread(left, right string, cols int) string {
	l, r := []rune(left), []rune(right)
	if len(l)+1+len(r) > cols {
		keep := max(0, cols-len(r)-1)
		l = l[:min(len(l), keep)]
	}
	return string(l) + strings.Repeat(" ", max(1, cols-len(l)-len(r))) + string(r)
}

// IdleView is what the idle screen shows besides the time.
type IdleView struct {
	Cloud   string // "standalone", "online", "offline", "refused"
	Pending int
	// Notices are lines that need attention (storage recovered, storage
	// filling up), already fitted to the display's width.
	Notices []string
}

// Notices are the idle screen's storage warnings, fitted to cols: a damaged
// state file was set aside (recovered), the journal is filling up or full
// (fill: 1 is full).
func Notices(recovered bool, fill float64, cols int) []string {
	var n []string
	if recovered {
		if cols >= 18 {
			n = append(n, "Storage recovered,", "call service")
		} else {
			n = append(n, "Data recovered,", "call service")
		}
	}
	switch {
	case fill >= 1:
		n = append(n, "Storage FULL,", "call service")
	case fill >= journal.WarnFill:
		n = append(n, fmt.Sprintf("Storage %d%% full", int(fill*100)))
	}
	return n
}

// NoticeEvery is how long a 2-line display shows the notices (or the
// disabled screen's extra lines), then the normal screen, in turn.
const NoticeEvery = 4 * time.Second

// idleScreen renders the idle screen: the local date and time, "Badge or
// PIN", and on 4-line displays the connection mark and pending count.
func idleScreen(now time.Time, cols, rows int, v IdleView) []string {
	prompt := center("Badge or PIN", cols)
	if rows < 4 {
		if len(v.Notices) > 0 && (now.Unix()/int64(NoticeEvery/time.Second))%2 == 1 {
			return fitRows(rows, v.Notices...)
		}
		return []string{dateTime(now, cols), prompt}
	}
	mark := "Not connected"
	switch v.Cloud {
	case "online":
		mark = "Online"
	case "offline":
		mark = "Offline"
	case "refused":
		// The cloud refuses this clock's certificate: punches are kept,
		// and service must look (disabled without its last transmission,
		// or onboarded again elsewhere).
		mark = "Cloud refused"
	}
	// Between the date line and the status line: the notices, then the
	// prompt when there is room for it. The pending count goes beside the
	// connection mark, or above the prompt when the two do not fit a line.
	pending := pendingText(v.Pending)
	status := spread(mark, pending, cols)
	body := rows - 2
	mid := []string{"", prompt}
	if len([]rune(mark))+1+len(pending) > cols {
		mid[0] = center(pending, cols)
		status = mark
	}
	if n := len(v.Notices); n > 0 {
		mid = append([]string(nil), v.Notices...)
		if n < body {
			mid = append(mid, prompt)
		}
		status = spread(mark, strconv.Itoa(v.Pending), cols)
		if v.Pending == 0 {
			status = mark
		}
	}
	mid = fitRows(body, mid...)
	lines := append([]string{dateTime(now, cols)}, mid...)
	for len(lines) < rows-1 {
		lines = append(lines, "")
	}
	return append(lines, status)
}

// dateTime is the idle screen's first line: the date, with the year when it
// fits, and the time at the right.
func dateTime(now time.Time, cols int) string {
	date, hm := now.Format("Mon 02 Jan 2006"), now.Format("15:04")
	if len(date)+1+len(hm) > cols {
		date = now.Format("Mon 02 Jan")
	}
	return spread(date, hm, cols)
}

func pendingText(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n) + " pending"
}
