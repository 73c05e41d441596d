package onboarding

import (
	"errors"
	"fmt"
	"time"

	"timeclock/clock"
	"timeclock/onboarding/netcheck"
	"timeclock/wire"
)

// Next is the pure next-state function: the model after ev at now, and a
// short reason for the log when the state changes.
func (mc Machine) Next(m Model, ev Event, now time.Time) (Model, string) {
	switch ev := ev.(type) {
	case KeyPress:
		return mc.key(m, ev.Key, now)
	case Tick:
		return mc.tick(m, now)
	case NetChecked:
		if ev.Seq != m.Seq || m.State != StateNetCheck {
			return m, ""
		}
		return mc.netChecked(m, ev.Report, now)
	case CompanyFound:
		if ev.Seq != m.Seq || m.State != StateCompanyLookup {
			return m, ""
		}
		if ev.Err != nil {
			return mc.fail(m, ev.Err, StateCompanyLookup)
		}
		m.Company = ev.Company
		return m.enter(StateCompanyConfirm), "company found"
	case CodeSent:
		if ev.Seq != m.Seq || m.State != StateCodeRequest {
			return m, ""
		}
		return mc.codeSent(m, ev, now)
	case Activated:
		if ev.Seq != m.Seq || m.State != StateActivating {
			return m, ""
		}
		return mc.activated(m, ev, now)
	}
	return m, ""
}

func (mc Machine) netChecked(m Model, r netcheck.Report, now time.Time) (Model, string) {
	m.Net = r
	if !r.OK() {
		a, _ := r.Advice()
		m.Problem = Problem{Title: a.Title, Text: a.Text, Enter: StateNetCheck, Back: StateNetCheck, Keys: "Enter=retry"}
		return m.enter(StateNetProblem), "network check failed"
	}
	// Deadlines of a session resumed after a reboot are counted from the
	// cloud's time when known, else from a clock that is set.
	if m.Session.ID != "" && m.Session.Expires.IsZero() {
		cloudNow, ok := now, clock.IsSet(now)
		if off, known := r.ClockOffset(); known {
			cloudNow, ok = now.Add(off), true
		}
		if ok {
			m.Session.Expires = now.Add(m.Session.ExpiresAt.Sub(cloudNow))
			m.Session.SentAt = now.Add(-helpAfter) // the help is no news after a reboot
			m.HelpShown = true
		}
	}
	return mc.afterNet(m, now)
}

// afterNet goes on from a passed network check, through the screens the
// installer still has to see, to where onboarding left off.
func (mc Machine) afterNet(m Model, now time.Time) (Model, string) {
	if m.Net.LANAdvice && !m.OnWiFi {
		a := netcheck.LANAdvice(m.Net.Iface)
		m.Problem = Problem{Title: a.Title, Text: a.Text, Enter: StateNetCheck, Back: StateNetCheck, Keys: "Enter=WiFi"}
		return m.enter(StateLANAdvice), "only WiFi is connected"
	}
	if a, ok := m.Net.Advice(); ok && a.CanContinue && !m.PortsOK {
		m.Problem = Problem{Title: a.Title, Text: a.Text, Enter: StateCompanyEntry, Back: StateNetCheck, Keys: "Enter=go on"}
		return m.enter(StateNetProblem), "some ports blocked"
	}
	switch {
	case m.sessionValid(now):
		return m.enter(StateCodeEntry), "network ok, code still valid"
	case m.Company.Name != "":
		m.Session = Session{}
		return m.enter(StateCompanyConfirm), "network ok, company known"
	}
	return m.enter(StateCompanyEntry), "network ok"
}

func (mc Machine) tick(m Model, now time.Time) (Model, string) {
	if m.State != StateCodeEntry && m.State != StateCodeHelp {
		return m, ""
	}
	if !now.Before(m.Session.Expires) {
		m.Code = ""
		m.Problem = Problem{
			Title: "Code expired",
			Text:  []string{"The code is valid for a limited time only.", "Press Enter for a new code."},
			Enter: StateCodeRequest, Back: StateCompanyConfirm, Keys: "Enter=resend",
		}
		return m.enter(StateProblem), "code expired"
	}
	if m.State == StateCodeEntry && !m.HelpShown && m.Code == "" && now.Sub(m.Session.SentAt) >= helpAfter {
		m.HelpShown = true
		return m.enter(StateCodeHelp), "no code after a minute"
	}
	return m, ""
}

func (mc Machine) codeSent(m Model, ev CodeSent, now time.Time) (Model, string) {
	if ev.Err != nil {
		var we *wire.Error
		if errors.As(ev.Err, &we) && we.Code == wire.ErrResendTooSoon {
			wait := time.Duration(max(we.RetryAfter, 1)) * time.Second
			if m.sessionValid(now) {
				// The code screen counts down to the new code.
				m.Session.ResendAt = now.Add(wait)
				m.Note = ""
				return m.enter(StateCodeEntry), "resend too soon"
			}
			if m.Session.ID != "" && m.Session.Blocked {
				// No code field for a code that cannot be typed: the
				// wait for the new one, counting down.
				m.Session.ResendAt = now.Add(wait)
				m.Problem = Problem{
					Title: "Code blocked",
					Text:  []string{"Too many wrong codes: this code no longer works."},
					Enter: StateCodeRequest, Back: StateCompanyConfirm, Keys: "Enter=resend", ResendWait: true,
				}
				return m.enter(StateProblem), "resend too soon, code blocked"
			}
		}
		return mc.fail(m, ev.Err, StateCodeRequest)
	}
	s := ev.Sent
	m.Session = Session{
		ID: s.SessionID, Recipients: s.Recipients, ExpiresAt: s.ExpiresAt,
		SentAt: now, Expires: now.Add(s.ExpiresAt.Sub(s.ServerTime)),
	}
	m.Code, m.HelpShown = "", false
	m.Note = ""
	if m.Resend {
		m.Note = "New code sent"
	}
	return m.enter(StateCodeEntry), fmt.Sprintf("code sent to %d administrators", s.Recipients)
}

func (mc Machine) activated(m Model, ev Activated, now time.Time) (Model, string) {
	if ev.Err != nil {
		// The code stays for a retry after a network failure; a refused
		// code goes.
		var we *wire.Error
		if errors.As(ev.Err, &we) {
			m.Code = ""
		}
		if we != nil && we.Code == wire.ErrCodeBurned {
			m.Session.Blocked = true
		}
		if we != nil && we.Code == wire.ErrWrongCode {
			m = m.enter(StateCodeEntry)
			m.Wrong = max(we.TriesLeft, 1)
			return m, "wrong code"
		}
		return mc.fail(m, ev.Err, StateActivating)
	}
	m.Code = ""
	m.Identity = ev.Identity
	m.Zones = zoneChoices(ev.Identity.Timezone, mc.Zones)
	m.ZoneIdx = 0
	m.Session = Session{}
	return m.enter(StateTimezoneConfirm), "activated as " + ev.Identity.DeviceID
}

// fail shows the screen for a cloud failure during step.
func (mc Machine) fail(m Model, err error, step State) (Model, string) {
	m.Problem = mc.problemFor(m, err, step)
	if m.Problem.Enter == StateCompanyConfirm || m.Problem.Back == StateCompanyConfirm {
		// The session is over: a new one starts from the confirm screen.
		if code := errCode(err); code == wire.ErrNoSession || code == wire.ErrDisabled {
			m.Session = Session{}
		}
	}
	return m.enter(StateProblem), "failed: " + reason(err)
}

// nextSecond is how long until a countdown of left shows its next second.
func nextSecond(left time.Duration) time.Duration {
	if step := left % time.Second; step != 0 {
		return step
	}
	return time.Second
}

func ceilSeconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

func max0(n int) int { return max(n, 0) }

// Wake is when the model next changes by itself (the countdown's next
// second, the one-minute help, expiry), and false when only input or a
// result can change it.
func (mc Machine) Wake(m Model, now time.Time) (time.Time, bool) {
	resend, counting := m.Session.ResendAt.Sub(now), false
	switch m.State {
	case StateCodeEntry, StateCodeHelp:
		counting = true
	case StateProblem:
		counting = m.Problem.ResendWait
	}
	if !counting || resend <= 0 {
		resend = 0
	}
	if m.State != StateCodeEntry && m.State != StateCodeHelp {
		if resend == 0 {
			return time.Time{}, false
		}
		return now.Add(nextSecond(resend)), true
	}
	left := m.Session.Expires.Sub(now)
	if left <= 0 {
		return now, true
	}
	step := left % time.Second
	if step == 0 {
		step = time.Second
	}
	at := now.Add(step)
	if resend > 0 {
		if r := now.Add(nextSecond(resend)); r.Before(at) {
			at = r
		}
	}
	if m.State == StateCodeEntry && !m.HelpShown {
		if h := m.Session.SentAt.Add(helpAfter); h.Before(at) {
			at = h
		}
	}
	if at.Before(now) {
		at = now
	}
	return at, true
}
