package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"timeclock/agent/disable"
	"timeclock/agent/input"
	"timeclock/agent/journal"
	"timeclock/agent/punchflow"
	"timeclock/agent/roster"
	"timeclock/clock"
	"timeclock/hal"
)

// Run opens the durable state, then runs the clock's screens until ctx is
// done. It returns nil on a clean shutdown; the caller halts the devices.
//
// Modes slot in here: the punch loop is the clock's normal mode; onboarding
// (a cloud configured, no identity yet) runs before it on the same inputs.
func (a *Agent) Run(ctx context.Context) error {
	d, err := a.openDurable()
	if err != nil {
		return err
	}
	a.dur.Store(d)
	defer func() {
		a.dur.Store(nil)
		if err := d.close(); err != nil {
			a.log.Error("closing state", "err", err)
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs before wg.Wait: readers stop, then we wait
	in := input.Start(ctx, &wg, a.hw.Keypad, a.hw.Badges, a.clk, a.log)
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.buzzer(ctx)
	}()

	for {
		if err := a.onboard(ctx, in.Keys, in.Badges); err != nil || ctx.Err() != nil {
			a.setState(StateStopping, "shutdown")
			return err
		}
		a.log.Info("idle", "model", a.hw.Model, "display", a.hw.Display.String(), "startup", a.clk.Now().Sub(a.start).String())
		err := a.serve(ctx, d, in)
		if !errors.Is(err, errOnboardAgain) {
			return err
		}
		a.log.Info("onboarding again, as the installer asked on the disabled screen")
	}
}

// errOnboardAgain ends the punch loop of a disabled clock whose installer
// asked to set it up again.
var errOnboardAgain = errors.New("agent: onboarding again")

// serve runs the punch loop, and the cloud sync beside it while the clock
// has an identity. The sync ends with the loop.
func (a *Agent) serve(ctx context.Context, d *durable, in input.Events) error {
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	a.startSync(sctx, &wg, d)
	return a.punchLoop(ctx, d, in)
}

// punchLoop is the clock's normal mode: idle screen, badge and PIN punches.
func (a *Agent) punchLoop(ctx context.Context, d *durable, in input.Events) error {
	s := punchflow.Start(false)
	a.setState(StateIdle, "started")
	if a.disablePhase() != disable.Enabled {
		s = punchflow.Start(true)
		a.setState(StateDisabled, "disabled by the administrator")
	}
	a.maintain(d)
	timer := a.clk.NewTimer(a.timerFor(d, s))
	defer timer.Stop()
	a.render(d, s)
	for {
		var ev punchflow.Event
		var why string
		select {
		case <-ctx.Done():
			a.setState(StateStopping, "shutdown")
			return nil
		case k := <-in.Keys:
			ev, why = punchflow.KeyPressed{Key: k.Key}, "key "+keyName(k.Key)
		case b := <-in.Badges:
			a.log.Info("badge read", "badge", b.String())
			ev, why = punchflow.BadgeRead{Number: b.Number}, "badge"
		case on := <-a.disable:
			ev, why = punchflow.SetDisabled{On: on}, "administrator"
		case <-a.redraw:
			// The sync changed something the screen shows; a disable
			// it recorded takes effect here.
			if a.disablePhase() != disable.Enabled && s.State() != punchflow.StateDisabled {
				ev, why = punchflow.SetDisabled{On: true}, "disabled by the administrator"
			}
		case <-timer.C():
			ev, why = punchflow.Tick{}, "timeout"
			if s.State() == punchflow.StateIdle {
				a.maintain(d)
			}
		}
		if ev != nil {
			s = a.step(ctx, d, s, ev, why)
		}
		if s.State() == punchflow.StateOnboarding {
			return errOnboardAgain
		}
		// The timer is armed before the screen changes, so whoever sees
		// the screen may move a fake clock past its deadline.
		timer.Reset(a.timerFor(d, s))
		a.render(d, s)
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
func (a *Agent) step(ctx context.Context, d *durable, s punchflow.Session, ev punchflow.Event, why string) punchflow.Session {
	for ev != nil {
		prev := s.State()
		var effs []punchflow.Effect
		s, effs = punchflow.Next(s, ev, a.facts())
		if s.State() != prev {
			a.log.Debug("flow", "from", prev.String(), "to", s.State().String(), "reason", why)
		}
		ev = nil
		for _, e := range effs {
			if out := a.perform(ctx, d, e); out != nil {
				ev, why = out, punchflow.Reason(out)
			}
		}
	}
	a.setState(stateOf(s.State()), why)
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
	}
}

// canOnboard: a disabled clock can be set up again once its last
// transmission is over, when it has a cloud to onboard to.
func (a *Agent) canOnboard() bool {
	return a.cfg.CloudURL != "" && a.disablePhase() == disable.Disabled
}

// perform carries out one effect; lookups and records answer with an event.
func (a *Agent) perform(ctx context.Context, d *durable, e punchflow.Effect) punchflow.Event {
	switch e := e.(type) {
	case punchflow.Lookup:
		return a.lookup(d, e)
	case punchflow.Record:
		return a.record(d, e.Punch)
	case punchflow.Signal:
		a.setLEDs(e.OK, !e.OK)
		p := hal.PatternOK
		if !e.OK {
			p = hal.PatternError
		}
		select {
		case a.beeps <- p:
		default: // the buzzer is behind; a missed beep beats a stalled screen
		}
	case punchflow.LEDsOff:
		a.setLEDs(false, false)
	case punchflow.OnboardAgain:
		if err := a.setPhase(d, nil, "the installer sets the clock up again"); err != nil {
			a.log.Error("cannot leave the disabled state", "err", err)
			return punchflow.SetDisabled{On: true}
		}
	}
	return nil
}

func (a *Agent) setLEDs(green, red bool) {
	for _, l := range []struct {
		led hal.LED
		on  bool
	}{{hal.LEDGreen, green}, {hal.LEDRed, red}} {
		if err := a.hw.Indicator.SetLED(l.led, l.on); err != nil {
			a.log.Error("indicator", "led", l.led.String(), "err", err)
		}
	}
}

// buzzer sounds patterns one after another, off the punch loop, because a
// real beep takes longer than a screen update.
func (a *Agent) buzzer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-a.beeps:
			if err := a.hw.Indicator.Beep(ctx, p); err != nil && ctx.Err() == nil {
				a.log.Error("buzzer", "err", err)
			}
		}
	}
}

// lookup finds who swiped or typed, and their last punch.
func (a *Agent) lookup(d *durable, e punchflow.Lookup) punchflow.Event {
	r := d.roster.Current()
	p := punchflow.Person{ViaPIN: e.PIN != ""}
	if !p.ViaPIN {
		// Unknown badges are recorded (and deduplicated) by their number
		// as the roster would match it: "0099" and "99" are one badge.
		p.Badge = e.Badge
		if n, err := roster.NormalizeBadge(e.Badge); err == nil {
			p.Badge = n
		}
	}
	var last journal.Last
	var ok bool
	var err error
	if p.ViaPIN {
		emp, found := r.ByPIN(e.PIN)
		if found {
			p.Found, p.Employee, p.Name, p.Departments, p.Active = true, emp.ID, emp.Name, emp.Departments, emp.Active
		} else {
			a.log.Info("unknown PIN") // the digits are never logged
		}
	} else {
		emp, found := r.ByBadge(e.Badge)
		if found {
			p.Found, p.Employee, p.Name, p.Departments, p.Active = true, emp.ID, emp.Name, emp.Departments, emp.Active
		} else {
			a.log.Info("unknown badge", "badge", p.Badge)
		}
	}
	switch {
	case p.Found:
		last, ok, err = d.journal.LastOf(p.Employee)
	case !p.ViaPIN:
		last, ok, err = d.journal.LastOfBadge(p.Badge)
	}
	if err != nil {
		a.log.Error("last punch unreadable; inferring IN", "who", p.Employee, "err", err)
	}
	if ok {
		p.Last = &last
	}
	return punchflow.Identified{Person: p}
}

// record stamps the punch with the time and the clock's state and appends
// it durably. Only after Append returns does the screen say accepted.
func (a *Agent) record(d *durable, p journal.Punch) punchflow.Event {
	now := a.clk.Now()
	p.Time = now
	p.TZ = a.location().String()
	_, p.TZOffset = now.In(a.location()).Zone()
	p.ClockSynced = clock.IsSet(now)
	if !p.ClockSynced {
		p.BootID, p.SinceBoot = a.bootID, a.sinceBoot()
	} else {
		a.correctClock(d, now)
	}
	out, err := d.journal.Append(p)
	switch {
	case errors.Is(err, journal.ErrFull):
		a.log.Error("STORAGE FULL: punch refused, nothing overwritten; call service",
			"who", p.Who(), "kind", p.Kind.String(), "pending", d.journal.Pending(), "capacity", d.journal.Capacity())
		return punchflow.RecordFailed{Full: true}
	case err != nil:
		a.log.Error("punch NOT recorded", "who", p.Who(), "kind", p.Kind.String(), "err", err)
		return punchflow.RecordFailed{}
	}
	a.notifyPunch()
	a.log.Info("punch recorded", "seq", out.Seq, "id", out.ID.String(), "kind", out.Kind.String(),
		"who", out.Who(), "department", out.Department, "clock_synced", out.ClockSynced)
	a.checkFill(d)
	return punchflow.Recorded{Punch: out}
}

// checkFill logs once when the journal crosses the warning level.
func (a *Agent) checkFill(d *durable) {
	fill := d.journal.Fill()
	switch {
	case fill >= journal.WarnFill && !a.fillWarned:
		a.fillWarned = true
		a.log.Warn(fmt.Sprintf("storage %d%% full: punches are not reaching the cloud", int(fill*100)),
			"pending", d.journal.Pending(), "capacity", d.journal.Capacity())
	case fill < journal.WarnFill:
		a.fillWarned = false
	}
}

// maintain runs the idle-time housekeeping: clock correction once the clock
// is set, daily compaction of old synced punches, the storage warning.
func (a *Agent) maintain(d *durable) {
	now := a.clk.Now()
	a.correctClock(d, now)
	if a.lastCompact.IsZero() || now.Sub(a.lastCompact) >= 24*time.Hour || now.Before(a.lastCompact) {
		a.lastCompact = now
		if _, err := d.journal.Compact(now); err != nil {
			a.log.Error("compaction", "err", err)
		}
	}
	a.checkFill(d)
}

func (a *Agent) correctClock(d *durable, now time.Time) {
	if d.journal.UnsetClock() == 0 || !clock.IsSet(now) {
		return
	}
	if _, err := d.journal.CorrectClock(a.bootID, now, a.sinceBoot()); err != nil {
		a.log.Error("clock correction", "err", err)
	}
}

// render shows the session's screen.
func (a *Agent) render(d *durable, s punchflow.Session) {
	cols, rows := a.hw.Display.Size()
	lines := punchflow.Screen(s, punchflow.View{Now: a.clk.Now().In(a.location()), Cols: cols, Rows: rows, Idle: a.idleView(d, cols), Disabled: a.disabledView(d)})
	if lines != nil {
		a.show(lines)
	}
}

func (a *Agent) idleView(d *durable, cols int) punchflow.IdleView {
	st := a.Status()
	v := punchflow.IdleView{Cloud: st.Cloud, Pending: st.Pending, Notices: notices(d, cols)}
	if s := a.syncer.Load(); s != nil && s.Refused() {
		v.Cloud = "refused"
	}
	return v
}

func (a *Agent) disabledView(d *durable) punchflow.DisabledView {
	v := punchflow.DisabledView{CanOnboard: a.canOnboard()}
	if a.disablePhase() == disable.Disabling {
		v.Sending = d.journal.Pending()
	}
	return v
}

// notices are the idle screen's warnings, fitted to cols.
func notices(d *durable, cols int) []string {
	var n []string
	if d.recovered.Load() {
		if cols >= 18 {
			n = append(n, "Storage recovered,", "call service")
		} else {
			n = append(n, "Data recovered,", "call service")
		}
	}
	switch fill := d.journal.Fill(); {
	case fill >= 1:
		n = append(n, "Storage FULL,", "call service")
	case fill >= journal.WarnFill:
		n = append(n, fmt.Sprintf("Storage %d%% full", int(fill*100)))
	}
	return n
}

// timerFor is when the loop next needs to wake: the state's deadline, or
// the next minute for the idle clock (or the next notice swap on 2 lines).
func (a *Agent) timerFor(d *durable, s punchflow.Session) time.Duration {
	now := a.clk.Now()
	if dl := s.Deadline(); !dl.IsZero() {
		return max(dl.Sub(now), 0)
	}
	wait := now.Truncate(time.Minute).Add(time.Minute).Sub(now)
	cols, rows := a.hw.Display.Size()
	if rows < 4 && (len(notices(d, cols)) > 0 || s.State() == punchflow.StateDisabled) {
		wait = min(wait, now.Truncate(punchflow.NoticeEvery).Add(punchflow.NoticeEvery).Sub(now))
	}
	return wait
}
