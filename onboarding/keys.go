package onboarding

import (
	"fmt"
	"strconv"
	"time"

	"timeclock/hal"
	"timeclock/wire"
)

// key is a key press: digits edit, Enter goes on, Clear goes back, Up and
// Down scroll (or pick a zone), F1 asks for a new code.
func (mc Machine) key(m Model, k hal.Key, now time.Time) (Model, string) {
	if k == hal.KeyUp || k == hal.KeyDown {
		if m.State == StateTimezoneConfirm {
			return mc.zoneKey(m, k), ""
		}
		if m.State == StateCodeEntry && k == hal.KeyDown {
			return m.enter(StateCodeHelp), "help asked for"
		}
		max := mc.maxPage(m, now)
		if k == hal.KeyUp {
			m.Page = max0(m.Page - 1)
		} else {
			m.Page = min(m.Page+1, max)
		}
		return m, ""
	}
	switch m.State {
	case StateNetProblem:
		return mc.problemKey(m, k, now)
	case StateLANAdvice:
		switch k {
		case hal.KeyEnter:
			m.OnWiFi = true
			return mc.afterNet(m, now)
		case hal.KeyClear:
			return m.enter(StateNetCheck), "check again"
		}
	case StateCompanyEntry:
		if d, ok := k.Digit(); ok {
			if len(m.CompanyID) < maxCompanyDigits {
				m.CompanyID += string(d)
			}
			m.Note = ""
			return m, ""
		}
		switch k {
		case hal.KeyClear:
			if m.CompanyID != "" {
				m.CompanyID = m.CompanyID[:len(m.CompanyID)-1]
				m.Note = ""
				return m, ""
			}
			return m.enter(StateNetCheck), "back"
		case hal.KeyEnter:
			if m.CompanyID == "" {
				m.Note = "ID missing"
				return m, ""
			}
			if wire.CheckCompanyID(m.CompanyID) != nil {
				// The cloud would refuse it; say the rule in words here.
				m.Note = ""
				m.Problem = Problem{
					Title: "ID too short",
					Text: []string{
						fmt.Sprintf("A company ID has %d to %d digits. You typed %d.",
							wire.CompanyIDMinDigits, wire.CompanyIDMaxDigits, len(m.CompanyID)),
						"Check the company ID with your administrator.",
					},
					Enter: StateCompanyEntry, Back: StateCompanyEntry, Keys: "Enter=edit",
				}
				return m.enter(StateProblem), "company ID too short"
			}
			m.Note = ""
			m.Company, m.Session = wire.CompanyResponse{}, Session{}
			return m.enter(StateCompanyLookup), "company ID entered"
		}
	case StateCompanyLookup:
		if k == hal.KeyClear {
			return m.enter(StateCompanyEntry), "canceled"
		}
	case StateCompanyConfirm:
		switch k {
		case hal.KeyEnter:
			if m.sessionValid(now) {
				m.Note = "Code was sent"
				return m.enter(StateCodeEntry), "confirmed, code already sent"
			}
			m.Resend = false
			return m.enter(StateCodeRequest), "company confirmed"
		case hal.KeyClear:
			m.Company, m.Session = wire.CompanyResponse{}, Session{}
			return m.enter(StateCompanyEntry), "not this company"
		}
	case StateCodeRequest:
		if k == hal.KeyClear {
			if m.sessionValid(now) {
				return m.enter(StateCodeEntry), "canceled"
			}
			return m.enter(StateCompanyConfirm), "canceled"
		}
	case StateCodeEntry:
		return mc.codeKey(m, k, now)
	case StateCodeHelp:
		if d, ok := k.Digit(); ok {
			m.Code, m.Note = string(d), ""
			return m.enter(StateCodeEntry), "typing the code"
		}
		switch k {
		case hal.KeyF1:
			return mc.resend(m, now)
		case hal.KeyEnter, hal.KeyClear:
			return m.enter(StateCodeEntry), "back to the code"
		}
	case StateActivating:
		// No cancel: the cloud may already have used the code.
	case StateProblem:
		return mc.problemKey(m, k, now)
	case StateTimezoneConfirm:
		switch k {
		case hal.KeyEnter:
			return m.enter(StateDone), "timezone " + m.Zones[m.ZoneIdx] + " confirmed"
		case hal.KeyClear:
			m.ZoneIdx = 0 // back to the company's zone
		}
	}
	return m, ""
}

func (mc Machine) problemKey(m Model, k hal.Key, now time.Time) (Model, string) {
	switch k {
	case hal.KeyEnter:
		if m.State == StateNetProblem && m.Problem.Enter == StateCompanyEntry {
			m.PortsOK = true
			return mc.afterNet(m, now)
		}
		if m.Problem.Enter == StateCodeRequest {
			return mc.resend(m, now)
		}
		return m.enter(m.Problem.Enter), "retry"
	case hal.KeyClear:
		return m.enter(m.Problem.Back), "back"
	}
	return m, ""
}

func (mc Machine) codeKey(m Model, k hal.Key, now time.Time) (Model, string) {
	m.Wrong = 0
	if d, ok := k.Digit(); ok {
		if len(m.Code) < codeDigits {
			m.Code += string(d)
		}
		m.Note = ""
		return m, ""
	}
	switch k {
	case hal.KeyClear:
		if m.Code != "" {
			m.Code = m.Code[:len(m.Code)-1]
			m.Note = ""
			return m, ""
		}
		m.Note = ""
		return m.enter(StateCompanyConfirm), "back"
	case hal.KeyEnter:
		if len(m.Code) != codeDigits {
			m.Note = "Need " + strconv.Itoa(codeDigits) + " digits"
			return m, ""
		}
		m.Note = ""
		return m.enter(StateActivating), "code entered"
	case hal.KeyF1:
		return mc.resend(m, now)
	}
	return m, ""
}

// resend asks the cloud for a new code. The cloud keeps the time between
// codes (60 s) and answers too early with how long to wait, which the code
// screen then shows: it is the one clock that counts, even on a device
// whose own time is unknown.
func (mc Machine) resend(m Model, now time.Time) (Model, string) {
	m.Resend = m.Session.ID != ""
	m.Code, m.Note = "", ""
	return m.enter(StateCodeRequest), "new code asked for"
}

func (mc Machine) zoneKey(m Model, k hal.Key) Model {
	n := len(m.Zones)
	if n == 0 {
		return m
	}
	if k == hal.KeyDown {
		m.ZoneIdx = (m.ZoneIdx + 1) % n
	} else {
		m.ZoneIdx = (m.ZoneIdx + n - 1) % n
	}
	return m
}
