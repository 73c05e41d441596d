package agent

import (
	"context"
	"errors"
	"time"

	"timeclock/agent/enrollflow"
	"timeclock/agent/fingers"
	"timeclock/agent/journal"
	"timeclock/agent/punchflow"
	"timeclock/agent/roster"
	"timeclock/agent/store"
	"timeclock/agent/update"
	"timeclock/clock"
	"timeclock/hal"
)

// punchLoop is the clock's normal mode: the idle screen, badge and PIN
// punches. It feeds events to the pure punch flow and carries out what the
// flow asks: it looks people up in the roster, stamps punches and records
// them in the journal, keeps the journal between punches, and draws the
// screens. Only this loop records punches.
type punchLoop struct {
	a   *Agent
	st  *store.Store // the state file: the disable record, the recovery notice
	j   *journal.Journal
	ros *roster.Keeper
	fk  *fingers.Keeper // who is enrolled on the fingerprint module
	in  inputEvents

	// enroll is the enrollment in progress (punch flow in StateEnroll),
	// nil when none; enrollEvents carries its scans' answers.
	enroll       *enrollRun
	enrollEvents chan enrollflow.Event
}

// run is the loop; it returns nil when ctx is done, errOnboardAgain when
// the installer sets a disabled clock up again.
func (l *punchLoop) run(ctx context.Context) error {
	a := l.a
	disabled := a.phaseNow() != phaseEnabled
	s := punchflow.Start(disabled)
	a.setState(StateIdle, "started")
	if disabled {
		a.setState(StateDisabled, "disabled by the administrator")
	}
	l.maintain()
	timer := a.clk.NewTimer(l.timerFor(s))
	defer timer.Stop()
	l.render(s)
	for {
		var ev punchflow.Event
		var why string
		var eev enrollflow.Event // for the enrollment, while one runs
		select {
		case <-ctx.Done():
			l.endEnroll()
			a.setState(StateStopping, "shutdown")
			return nil
		case k := <-l.in.Keys:
			ev, why = punchflow.KeyPressed{Key: k.Key}, "key "+keyName(k.Key)
			eev = enrollflow.Key{Key: k.Key}
		case b := <-l.in.Badges:
			key := badgeKey(b)
			a.log.Info("badge read", "badge", b.String(), "roster_badge", key) // not "key": the log redacts keys
			ev, why = punchflow.BadgeRead{Key: key}, "badge"
			eev = enrollflow.Badge{Key: key}
		case f := <-l.in.Fingers:
			ev, why = l.fingerRead(f), "finger"
		case r := <-l.enrollEvents:
			ev, eev, why = nil, r, "enrollment"
		case <-a.redraw:
			// The sync changed something the screen shows; a disable
			// it recorded takes effect here. The clock may have been set:
			// punches taken before are corrected now.
			l.correctClock(a.clk.Now())
			if a.phaseNow() != phaseEnabled && s.State() != punchflow.StateDisabled {
				ev, why = punchflow.Disabled{}, "disabled by the administrator"
			}
		case <-timer.C():
			ev, why = punchflow.Tick{}, "timeout"
			eev = enrollflow.Tick{}
			if s.State() == punchflow.StateIdle {
				l.maintain()
			}
		case p := <-a.probes:
			close(p) // back at the select: the last screen is drawn, the last punch recorded
			continue
		case q := <-a.quiesce:
			// An update restarts the clock only from the idle screen: no
			// punch under way, and never during a disable's last
			// transmission.
			if s.State() != punchflow.StateIdle || a.phaseNow() != phaseEnabled {
				q <- false
				continue
			}
			q <- true
			a.setState(StateStopping, "restarting for an update")
			return update.ErrRestart
		}
		if l.enroll != nil && eev != nil {
			// The enrollment has the keys, badges and the timer; the
			// punch flow hears only that it ended (or a disable).
			if l.enrollStep(ctx, eev, why) {
				l.endEnroll()
				ev, why = punchflow.EnrollDone{}, "enrollment over"
			} else if _, dis := ev.(punchflow.Disabled); !dis {
				ev = nil
			}
		}
		if ev != nil {
			s = l.step(ctx, s, ev, why)
		}
		if l.enroll != nil && s.State() != punchflow.StateEnroll {
			l.endEnroll() // disabled meanwhile
		}
		if s.State() == punchflow.StateOnboarding {
			return errOnboardAgain
		}
		// The timer is armed before the screen changes, so whoever sees
		// the screen may move a fake clock past its deadline.
		timer.Reset(l.timerFor(s))
		l.render(s)
	}
}

// keyName names a key for the log; digits are not named, they may be a PIN.
func keyName(k hal.Key) string {
	if _, ok := k.Digit(); ok {
		return "digit"
	}
	return k.String()
}

// step feeds an event to the flow and performs the effects, whose results
// are events fed back in turn, until the flow rests.
func (l *punchLoop) step(ctx context.Context, s punchflow.Session, ev punchflow.Event, why string) punchflow.Session {
	for ev != nil {
		prev := s.State()
		var effs []punchflow.Effect
		s, effs = punchflow.Next(s, ev, l.a.facts())
		if s.State() != prev {
			l.a.log.Debug("flow", "from", prev.String(), "to", s.State().String(), "reason", why)
		}
		ev = nil
		for _, e := range effs {
			if out := l.perform(ctx, e); out != nil {
				ev, why = out, punchflow.Reason(out)
			}
		}
	}
	l.a.setState(stateOf(s.State()), why)
	return s
}

func (a *Agent) facts() punchflow.Facts {
	return punchflow.Facts{
		Now:                 a.clk.Now(),
		IdleTimeout:         a.cfg.IdleTimeout.D(),
		FeedbackTime:        a.cfg.FeedbackTime.D(),
		DuplicateWindow:     a.cfg.DuplicateWindow.D(),
		RecordUnknownBadges: a.cfg.RecordUnknownBadges,
		CanOnboard:          a.canOnboard(),
		CanEnroll:           a.enroller() != nil,
	}
}

// perform carries out one effect; lookups and records answer with an event.
func (l *punchLoop) perform(ctx context.Context, e punchflow.Effect) punchflow.Event {
	a := l.a
	switch e := e.(type) {
	case punchflow.Lookup:
		if e.Finger != nil {
			return punchflow.Identified{Person: l.lookupFinger(*e.Finger)}
		}
		return punchflow.Identified{Person: l.lookup(e.Badge, e.PIN)}
	case punchflow.Record:
		out, err := l.record(e.Punch)
		switch {
		case errors.Is(err, journal.ErrFull):
			return punchflow.RecordFailed{Full: true}
		case err != nil:
			return punchflow.RecordFailed{}
		}
		return punchflow.Recorded{Punch: out}
	case punchflow.Signal:
		a.signals.Signal(e.OK)
	case punchflow.LEDsOff:
		a.signals.Off()
	case punchflow.StartEnroll:
		l.startEnroll()
	case punchflow.OnboardAgain:
		if err := a.setPhase(l.st, nil, "the installer sets the clock up again"); err != nil {
			a.log.Error("cannot leave the disabled state", "err", err)
			return punchflow.Disabled{}
		}
	}
	return nil
}

// badgeKey is the badge read as the roster matches it (roster.MatchBadge):
// the event's Key, "12:34567" for a card with a facility code; an EM4100
// tag's whole ID marked "em:", so it is not taken for a card number; the
// card number for a card that carries nothing more.
func badgeKey(ev hal.BadgeEvent) string {
	if ev.Format == hal.FormatEM4100 && len(ev.Raw) == 5 {
		return "em:" + ev.Key()
	}
	return ev.Key()
}

// lookup finds who swiped badge (its key, badgeKey) or typed pin (one of
// them is set) in the roster, and their last punch in the journal.
func (l *punchLoop) lookup(badge, pin string) punchflow.Person {
	log := l.a.log
	r := l.ros.Current()
	p := punchflow.Person{ViaPIN: pin != ""}
	if !p.ViaPIN {
		// Unknown badges are recorded (and deduplicated) by their key
		// as the roster would match it: "0099" and "99" are one badge,
		// "12:99" and "13:99" two.
		p.Badge = badge
		if n, err := roster.NormalizeBadge(badge); err == nil {
			p.Badge = n
		}
	}
	var emp roster.Employee
	var found bool
	if p.ViaPIN {
		if emp, found = r.ByPIN(pin); !found {
			log.Info("unknown PIN") // the digits are never logged
		}
	} else {
		var m roster.Match
		emp, m = r.MatchBadge(badge)
		switch found = m.Found(); m {
		case roster.Unknown:
			log.Info("unknown badge", "badge", p.Badge)
		case roster.Ambiguous:
			log.Warn("unknown badge: its card number alone is on the roster, and another employee has that card number with a facility code", "badge", p.Badge)
		case roster.ByCard:
			log.Info("badge matched by its card number alone (no facility code on the roster)", "badge", p.Badge, "employee", emp.ID)
		}
	}
	if found {
		p.Found, p.Employee, p.Name, p.Departments, p.Active = true, emp.ID, emp.Name, emp.Departments, emp.Active
	}
	var last journal.Last
	var ok bool
	var err error
	switch {
	case p.Found:
		last, ok, err = l.j.LastOf(p.Employee)
	case !p.ViaPIN:
		last, ok, err = l.j.LastOfBadge(p.Badge)
	}
	if err != nil {
		log.Error("last punch unreadable; inferring IN", "who", p.Employee, "err", err)
	}
	if ok {
		p.Last = &last
	}
	return p
}

// record stamps the punch with the time and the clock's state, has the
// journal keep it durably and tells the sync, returning it as stored. Only
// after it returns does the screen say accepted.
func (l *punchLoop) record(p journal.Punch) (journal.Punch, error) {
	a := l.a
	now := a.clk.Now()
	loc := a.location()
	p.Time = now
	p.TZ = loc.String()
	_, p.TZOffset = now.In(loc).Zone()
	p.Source = a.keeper.Source()
	p.ClockSet = p.Source != clock.SourceUnset
	switch p.Source {
	case clock.SourceUnset:
		// The clock was never set since boot: the boot and the time since
		// it let the punch be corrected once the true time is known. (A
		// stale RTC after a reboot reads below the last-known-good time,
		// so it is unset too; one above it is rtc-unverified, kept as it
		// is, and says so.)
		p.BootID, p.SinceBoot = a.bootID, a.sinceBoot()
	case clock.SourceNTP, clock.SourceCloud:
		l.correctClock(now)
	}
	out, err := l.j.Record(p)
	if err != nil {
		return journal.Punch{}, err
	}
	a.notifyPunch()
	return out, nil
}

// maintain is the idle loop's housekeeping: clock correction once the clock
// is set, then the journal's own (compaction, the storage warning).
func (l *punchLoop) maintain() {
	now := l.a.clk.Now()
	l.correctClock(now)
	l.a.saveLastGood(l.st, false)
	l.j.Maintain(now)
}

// correctClock moves the punches whose time nothing vouched for to the true
// time once a trusted source (NTP, the cloud) vouches for the clock, and
// tells the sync, which sends the corrections.
func (l *punchLoop) correctClock(now time.Time) {
	if l.j.UnsetClock() == 0 || !l.a.keeper.Source().Known() {
		return
	}
	n, err := l.j.CorrectClock(l.a.bootID, now, l.a.sinceBoot())
	if err != nil {
		l.a.log.Error("clock correction", "err", err)
		return
	}
	if n > 0 {
		l.a.notifyPunch()
	}
}

// render shows the session's screen.
func (l *punchLoop) render(s punchflow.Session) {
	a := l.a
	cols, rows := a.hw.Display.Size()
	if l.enroll != nil {
		if lines := enrollflow.Screen(l.enroll.s, cols, rows); lines != nil {
			a.show(lines)
		}
		return
	}
	lines := punchflow.Screen(s, punchflow.View{Now: a.clk.Now().In(a.location()), Cols: cols, Rows: rows, Idle: l.idleView(cols), Disabled: l.disabledView()})
	if lines != nil {
		a.show(lines)
	}
}

// idleView is what the idle screen shows. Every screen computes it, so it
// reads only what it shows: not the whole Status (whose network interface
// and NTP state cost a /proc read and syscalls per punch).
func (l *punchLoop) idleView(cols int) punchflow.IdleView {
	v := punchflow.IdleView{Cloud: l.a.cloudState(), Pending: l.j.Pending(), Notices: l.notices(cols)}
	if s := l.a.syncer.Load(); s != nil && s.Refused() {
		v.Cloud = "refused"
	}
	return v
}

func (l *punchLoop) disabledView() punchflow.DisabledView {
	v := punchflow.DisabledView{CanOnboard: l.a.canOnboard()}
	if l.a.phaseNow() == phaseDisabling {
		v.Sending = l.j.Pending()
	}
	return v
}

// notices are the idle screen's storage warnings, fitted to cols.
func (l *punchLoop) notices(cols int) []string {
	return punchflow.Notices(l.st.Recovered(), l.j.Fill(), cols)
}

// timerFor is when the loop next needs to wake: the state's deadline, or
// the next minute for the idle clock (or the next notice swap on 2 lines).
func (l *punchLoop) timerFor(s punchflow.Session) time.Duration {
	now := l.a.clk.Now()
	if l.enroll != nil {
		if dl := l.enroll.s.Deadline(); !dl.IsZero() {
			return max(dl.Sub(now), 0)
		}
		return time.Hour // storing: the answer comes at once
	}
	if dl := s.Deadline(); !dl.IsZero() {
		return max(dl.Sub(now), 0)
	}
	wait := now.Truncate(time.Minute).Add(time.Minute).Sub(now)
	cols, rows := l.a.hw.Display.Size()
	if rows < 4 && (len(l.notices(cols)) > 0 || s.State() == punchflow.StateDisabled) {
		wait = min(wait, now.Truncate(punchflow.NoticeEvery).Add(punchflow.NoticeEvery).Sub(now))
	}
	return wait
}
