package onboarding

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Screen renders the model for a display of cols x rows at now. It is pure:
// the golden tests cover every state on 16x2 and 20x4.
func (mc Machine) Screen(m Model, now time.Time) []string {
	cols, rows := mc.Cols, mc.Rows
	switch m.State {
	case StateCompanyEntry:
		input := "> " + m.CompanyID + "_"
		if rows < 4 {
			if m.Note != "" {
				return []string{cut(m.Note, cols), input}
			}
			return []string{"Company ID", input}
		}
		return []string{"Company ID", input, cut(m.Note, cols), cut("Enter=OK Clear=back", cols)}
	case StateCodeEntry:
		return mc.codeScreen(m, now)
	case StateTimezoneConfirm:
		zone := m.Zones[m.ZoneIdx]
		local := now.In(zoneLocation(zone)).Format("15:04")
		if rows < 4 {
			short := zone
			if len(short) > cols {
				short = short[strings.LastIndex(short, "/")+1:] // the city names it well enough
			}
			return []string{cut("Zone OK? "+local, cols), cut(short, cols)}
		}
		return []string{"Activated", cut(zone, cols), "Local time " + local, cut("Enter=OK Up/Dn=zone", cols)}
	}
	p := mc.page(m, now)
	return p.render(cols, rows, m.Page)
}

// maxPage is the last scroll position of the model's screen.
func (mc Machine) maxPage(m Model, now time.Time) int {
	return mc.page(m, now).maxOffset(mc.Cols, mc.Rows)
}

// page is the screen of a state shown as title, sentences and key hint.
func (mc Machine) page(m Model, now time.Time) page {
	switch m.State {
	case StateNetCheck:
		return page{"Network check", []string{"Checking the network and the cloud..."}, "Please wait"}
	case StateNetProblem, StateLANAdvice, StateProblem:
		text := m.Problem.Text
		if m.Problem.ResendWait {
			next := "Press Enter for a new code."
			if w := m.Session.ResendAt.Sub(now); w > 0 {
				next = "New code in " + strconv.Itoa(ceilSeconds(w)) + "s."
			}
			text = append(slices.Clip(text), next)
		}
		return page{m.Problem.Title, text, m.Problem.Keys}
	case StateCompanyLookup:
		return page{"Company " + m.CompanyID, []string{"Looking it up..."}, "Clear=cancel"}
	case StateCompanyConfirm:
		text := []string{m.Company.Name, "ID " + m.Company.CompanyID}
		if m.Note != "" {
			text = append(text, m.Note)
		}
		return page{"Your company?", text, "Enter=yes Clear=no"}
	case StateCodeRequest:
		return page{"Sending code", []string{"Emailing a code to the administrators of " + m.Company.Name + "..."}, "Clear=cancel"}
	case StateCodeHelp:
		return page{"No code yet?", mc.helpText(m, now), "F1=new code"}
	case StateActivating:
		return page{"Activating", []string{"Checking the code with the cloud..."}, "Please wait"}
	case StateDone:
		return page{"Activated", nil, ""}
	}
	return page{m.State.String(), nil, ""}
}

// helpText is the seed's advice when the email does not come.
func (mc Machine) helpText(m Model, now time.Time) []string {
	return []string{
		"The code goes only to the administrator emails on file for company " + m.Company.CompanyID + ".",
		"Check the spam folder and the email filters.",
		"Use a LAN cable for setup.",
		mc.Ports.AllowPorts(),
		"Code expires in " + countdown(m.Session.Expires.Sub(now)) + ".",
		"Enter=type the code, F1=new code.",
	}
}

func (mc Machine) codeScreen(m Model, now time.Time) []string {
	cols, rows := mc.Cols, mc.Rows
	code := m.Code + strings.Repeat("_", codeDigits-len(m.Code))
	left := countdown(m.Session.Expires.Sub(now))
	note := m.Note
	if w := m.Session.ResendAt.Sub(now); note == "" && w > 0 {
		note = "New code in " + strconv.Itoa(ceilSeconds(w)) + "s"
	}
	tries := fmt.Sprintf("%d tries left", m.Wrong)
	if m.Wrong == 1 {
		tries = "1 try left"
	}
	if rows < 4 {
		if m.Wrong > 0 {
			return []string{spread("Wrong code", left, cols), tries}
		}
		second := "F1=new Dn=help"
		if note != "" {
			second = note
		}
		return []string{spread("Code "+code, left, cols), cut(second, cols)}
	}
	head := note
	if m.Wrong > 0 {
		head = "Wrong code, " + tries
		if len(head) > cols {
			head = fmt.Sprintf("Wrong code, %d left", m.Wrong)
		}
	}
	if head == "" {
		head = fmt.Sprintf("Emailed to %d admins", m.Session.Recipients)
		if m.Session.Recipients == 1 {
			head = "Emailed to 1 admin"
		}
	}
	return []string{cut(head, cols), "Code: " + code, "Expires in " + left, cut("Enter=OK F1=new code", cols)}
}

// countdown shows a duration as m:ss, rounded up, never negative.
func countdown(d time.Duration) string {
	s := max(ceilSeconds(d), 0)
	return strconv.Itoa(s/60) + ":" + fmt.Sprintf("%02d", s%60)
}

// spread puts left and right at the two ends of a line.
func spread(left, right string, cols int) string {
	l, r := []rune(left), []rune(right)
	if len(l)+1+len(r) > cols {
		l = l[:max(0, min(len(l), cols-len(r)-1))]
	}
	return string(l) + strings.Repeat(" ", max(1, cols-len(l)-len(r))) + string(r)
}
