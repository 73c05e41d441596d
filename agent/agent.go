// Package agent is the clock's daemon: it owns the screens and the punch
// flow, and runs the subsystems (journal, sync, console) for as long as its
// context lives. It depends on hal interfaces only; cmd/timeclockd opens the
// board and hands the devices in.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"timeclock/clock"
	"timeclock/hal"
)

// Options are the agent's injected dependencies.
type Options struct {
	Logger *slog.Logger
	Clock  clock.Clock
	// ClockSynced reports whether the wall clock is known to be right; nil
	// asks the kernel (adjtimex).
	ClockSynced func() bool
	// NetworkIface names the interface in use; nil reads the default route.
	NetworkIface func() string
	// Start is when the process started, for the start-up time in the log;
	// zero means now.
	Start time.Time
	// Onboard are onboarding's system facts (see onboard.go).
	Onboard OnboardOptions
}

// Agent is the running clock.
type Agent struct {
	cfg   Config
	hw    Hardware
	log   *slog.Logger
	clk   clock.Clock
	loc   *time.Location
	start time.Time

	clockSynced  func() bool
	networkIface func() string

	ob onboarder // the identity and onboarding (onboard.go)

	mu    sync.Mutex
	state State // guarded by mu
}

// New checks the config and hardware and returns an agent ready to Run.
func New(cfg Config, hw Hardware, o Options) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("agent: config: %w", err)
	}
	if err := hw.check(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.ClockSynced == nil {
		o.ClockSynced = func() bool {
			ok, err := clock.KernelSynced()
			return err == nil && ok
		}
	}
	if o.NetworkIface == nil {
		o.NetworkIface = defaultRouteIface
	}
	if o.Start.IsZero() {
		o.Start = o.Clock.Now()
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("agent: timezone: %w", err)
	}
	return &Agent{
		cfg:          cfg,
		hw:           hw,
		log:          o.Logger,
		clk:          o.Clock,
		loc:          loc,
		start:        o.Start,
		clockSynced:  o.ClockSynced,
		networkIface: o.NetworkIface,
		ob:           onboarder{opts: o.Onboard},
	}, nil
}

// Status returns the clock's status; safe to call from any goroutine.
func (a *Agent) Status() Status {
	a.mu.Lock()
	st := a.state
	a.mu.Unlock()
	cloud := "standalone"
	if a.cfg.CloudURL != "" {
		cloud = "offline"
	}
	s := Status{
		State:   st,
		Model:   a.hw.Model,
		Version: a.cfg.Version,
		Cloud:   cloud,
		Synced:  a.clockSynced(),
		Network: a.networkIface(),
		Uptime:  a.clk.Now().Sub(a.start),
	}
	a.ob.fill(&s)
	return s
}

func (a *Agent) setState(to State, reason string) {
	a.mu.Lock()
	from := a.state
	a.state = to
	a.mu.Unlock()
	if from != to {
		a.log.Info("state change", "from", from.String(), "to", to.String(), "reason", reason)
	}
}

// Run shows the idle screen and handles input until ctx is done. It returns
// nil on a clean shutdown. The caller halts the devices afterwards.
func (a *Agent) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	keys := make(chan hal.KeyEvent)
	badges := make(chan hal.BadgeEvent)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs before wg.Wait: readers stop, then we wait
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.readLoop(ctx, a.hw.Keypad, func(ctx context.Context) error {
			ev, err := a.hw.Keypad.ReadKey(ctx)
			if err == nil {
				select {
				case keys <- ev:
				case <-ctx.Done():
				}
			}
			return err
		})
	}()
	for _, r := range a.hw.Badges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.readLoop(ctx, r, func(ctx context.Context) error {
				ev, err := r.ReadBadge(ctx)
				if err == nil {
					select {
					case badges <- ev:
					case <-ctx.Done():
					}
				}
				return err
			})
		}()
	}

	if err := a.onboard(ctx, keys, badges); err != nil || ctx.Err() != nil {
		a.setState(StateStopping, "shutdown")
		return err
	}
	a.setState(StateIdle, "started")
	a.log.Info("idle", "model", a.hw.Model, "display", a.hw.Display.String(), "startup", a.clk.Now().Sub(a.start).String())
	a.showIdle()
	tick := a.clk.NewTimer(a.untilNextMinute())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			a.setState(StateStopping, "shutdown")
			return nil
		case ev := <-keys:
			a.log.Debug("key", "key", ev.Key.String())
		case ev := <-badges:
			a.log.Info("badge read", "badge", ev.String())
		case <-tick.C():
			a.showIdle()
			tick.Reset(a.untilNextMinute())
		}
	}
}

// readLoop calls read until ctx is done or the device is halted. Other
// errors (a reader unplugged, a bus glitch) are logged and retried with a
// growing pause, so one bad device never stops the clock.
func (a *Agent) readLoop(ctx context.Context, d hal.Device, read func(context.Context) error) {
	backoff := 100 * time.Millisecond
	for {
		err := read(ctx)
		switch {
		case err == nil:
			backoff = 100 * time.Millisecond
			continue
		case ctx.Err() != nil, errors.Is(err, hal.ErrHalted):
			return
		}
		a.log.Warn("input device error", "device", d.String(), "err", err, "retry_in", backoff.String())
		t := a.clk.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (a *Agent) untilNextMinute() time.Duration {
	now := a.clk.Now()
	return now.Truncate(time.Minute).Add(time.Minute).Sub(now)
}

func (a *Agent) showIdle() {
	cols, rows := a.hw.Display.Size()
	st := a.Status()
	a.show(idleScreen(a.clk.Now().In(a.loc), cols, rows, idleView{Cloud: st.Cloud, Pending: st.Pending}))
}

// show puts a screen up. A display error is logged, not fatal: a clock with
// a broken display still takes badge punches.
func (a *Agent) show(lines []string) {
	if err := a.hw.Display.Show(lines); err != nil {
		a.log.Error("display", "device", a.hw.Display.String(), "err", err)
	}
}
