package agent

import (
	"context"
	"errors"
	"sync"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/punchbook"
	"timeclock/agent/punchflow"
	"timeclock/hal"
)

// Run opens the durable state, then runs the clock's screens until ctx is
// done. It returns nil on a clean shutdown; the caller halts the devices.
//
// Modes slot in here: the punch loop is the clock's normal mode; onboarding
// (a cloud configured, no identity yet) runs before it on the same inputs.
func (a *Agent) Run(ctx context.Context) error {
	book, err := a.openBook()
	if err != nil {
		return err
	}
	a.book.Store(book)
	defer func() {
		a.book.Store(nil)
		if err := book.Close(); err != nil {
			a.log.Error("closing state", "err", err)
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs before wg.Wait: readers stop, then we wait
	in := startInput(ctx, &wg, a.hw.Keypad, a.hw.Badges, a.clk, a.log)
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.signals.Run(ctx)
	}()

	for {
		if err := a.onboard(ctx, in.Keys, in.Badges); err != nil || ctx.Err() != nil {
			a.setState(StateStopping, "shutdown")
			return err
		}
		a.log.Info("idle", "model", a.hw.Model, "display", a.hw.Display.String(), "startup", a.clk.Now().Sub(a.start).String())
		err := a.serve(ctx, book, in)
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
func (a *Agent) serve(ctx context.Context, book *punchbook.Book, in inputEvents) error {
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	a.startSync(sctx, &wg, book)
	return a.punchLoop(ctx, book, in)
}

// punchLoop is the clock's normal mode: idle screen, badge and PIN punches.
func (a *Agent) punchLoop(ctx context.Context, book *punchbook.Book, in inputEvents) error {
	disabled := a.phaseNow() != phaseEnabled
	s := punchflow.Start(disabled)
	a.setState(StateIdle, "started")
	if disabled {
		a.setState(StateDisabled, "disabled by the administrator")
	}
	book.Maintain()
	timer := a.clk.NewTimer(a.timerFor(book, s))
	defer timer.Stop()
	a.render(book, s)
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
			if a.phaseNow() != phaseEnabled && s.State() != punchflow.StateDisabled {
				ev, why = punchflow.SetDisabled{On: true}, "disabled by the administrator"
			}
		case <-timer.C():
			ev, why = punchflow.Tick{}, "timeout"
			if s.State() == punchflow.StateIdle {
				book.Maintain()
			}
		}
		if ev != nil {
			s = a.step(ctx, book, s, ev, why)
		}
		if s.State() == punchflow.StateOnboarding {
			return errOnboardAgain
		}
		// The timer is armed before the screen changes, so whoever sees
		// the screen may move a fake clock past its deadline.
		timer.Reset(a.timerFor(book, s))
		a.render(book, s)
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
func (a *Agent) step(ctx context.Context, book *punchbook.Book, s punchflow.Session, ev punchflow.Event, why string) punchflow.Session {
	for ev != nil {
		prev := s.State()
		var effs []punchflow.Effect
		s, effs = punchflow.Next(s, ev, a.facts())
		if s.State() != prev {
			a.log.Debug("flow", "from", prev.String(), "to", s.State().String(), "reason", why)
		}
		ev = nil
		for _, e := range effs {
			if out := a.perform(ctx, book, e); out != nil {
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
	return a.cfg.CloudURL != "" && a.phaseNow() == phaseDisabled
}

// perform carries out one effect; lookups and records answer with an event.
func (a *Agent) perform(ctx context.Context, book *punchbook.Book, e punchflow.Effect) punchflow.Event {
	switch e := e.(type) {
	case punchflow.Lookup:
		return punchflow.Identified{Person: book.Lookup(e.Badge, e.PIN)}
	case punchflow.Record:
		out, err := book.Record(e.Punch)
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
	case punchflow.OnboardAgain:
		if err := a.setPhase(book, nil, "the installer sets the clock up again"); err != nil {
			a.log.Error("cannot leave the disabled state", "err", err)
			return punchflow.SetDisabled{On: true}
		}
	}
	return nil
}

// render shows the session's screen.
func (a *Agent) render(book *punchbook.Book, s punchflow.Session) {
	cols, rows := a.hw.Display.Size()
	lines := punchflow.Screen(s, punchflow.View{Now: a.clk.Now().In(a.location()), Cols: cols, Rows: rows, Idle: a.idleView(book, cols), Disabled: a.disabledView(book)})
	if lines != nil {
		a.show(lines)
	}
}

func (a *Agent) idleView(book *punchbook.Book, cols int) punchflow.IdleView {
	st := a.Status()
	v := punchflow.IdleView{Cloud: st.Cloud, Pending: st.Pending, Notices: notices(book, cols)}
	if s := a.syncer.Load(); s != nil && s.Refused() {
		v.Cloud = "refused"
	}
	return v
}

func (a *Agent) disabledView(book *punchbook.Book) punchflow.DisabledView {
	v := punchflow.DisabledView{CanOnboard: a.canOnboard()}
	if a.phaseNow() == phaseDisabling {
		v.Sending = book.Journal().Pending()
	}
	return v
}

// notices are the idle screen's storage warnings, fitted to cols.
func notices(book *punchbook.Book, cols int) []string {
	return punchflow.Notices(book.Recovered(), book.Journal().Fill(), cols)
}

// timerFor is when the loop next needs to wake: the state's deadline, or
// the next minute for the idle clock (or the next notice swap on 2 lines).
func (a *Agent) timerFor(book *punchbook.Book, s punchflow.Session) time.Duration {
	now := a.clk.Now()
	if dl := s.Deadline(); !dl.IsZero() {
		return max(dl.Sub(now), 0)
	}
	wait := now.Truncate(time.Minute).Add(time.Minute).Sub(now)
	cols, rows := a.hw.Display.Size()
	if rows < 4 && (len(notices(book, cols)) > 0 || s.State() == punchflow.StateDisabled) {
		wait = min(wait, now.Truncate(punchflow.NoticeEvery).Add(punchflow.NoticeEvery).Sub(now))
	}
	return wait
}
