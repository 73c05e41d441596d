package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"timeclock/agent/enrollflow"
	"timeclock/agent/fingers"
	"timeclock/agent/journal"
	"timeclock/agent/roster"
	"timeclock/agent/store"
)

// Run opens the durable state, then runs the clock's screens until ctx is
// done. It returns nil on a clean shutdown; the caller halts the devices.
//
// Modes slot in here: the punch loop is the clock's normal mode; onboarding
// (a cloud configured, no identity yet) runs before it on the same inputs.
func (a *Agent) Run(ctx context.Context) error {
	st, j, ros, err := a.openStateRetrying(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // shut down while waiting for the disk
		}
		return err
	}
	a.stateFile.Store(st)
	a.journal.Store(j)
	a.loadLastGood(st)
	a.loadZone(st)
	if _, err := j.ForgetOtherBoots(a.bootID); err != nil {
		a.log.Error("clock correction list", "err", err)
	}
	defer func() {
		a.saveLastGood(st, true)
		a.journal.Store(nil)
		a.stateFile.Store(nil)
		j.Close()
		if err := st.Close(); err != nil {
			a.log.Error("closing state", "err", err)
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs before wg.Wait: readers stop, then we wait
	in := startInput(ctx, &wg, a.hw.Keypad, a.hw.Badges, a.clk, a.log)
	in.Fingers = startFingers(ctx, &wg, a.hw.Finger, a.clk, a.log)
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.signals.Run(ctx)
	}()
	fk, err := fingers.Open(st)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if en := a.enroller(); en != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.sweepFingers(ctx, fk, ros, en)
		}()
	}

	loop := &punchLoop{a: a, st: st, j: j, ros: ros, fk: fk, in: in, enrollEvents: make(chan enrollflow.Event, 1)}
	for {
		if err := a.onboard(ctx, in.Keys, in.Badges); err != nil || ctx.Err() != nil {
			a.setState(StateStopping, "shutdown")
			return err
		}
		a.log.Info("idle", "model", a.hw.Model, "display", a.hw.Display.String(), "startup", a.clk.Now().Sub(a.start).String())
		err := a.serve(ctx, loop)
		if !errors.Is(err, errOnboardAgain) {
			return err
		}
		a.log.Info("onboarding again, as the installer asked on the disabled screen")
	}
}

// storageRetry is how often a clock whose state file cannot be opened
// tries again.
const storageRetry = 5 * time.Second

// openStateRetrying opens the state. When it cannot (a full or read-only
// disk, permissions), the clock says so on its screen and in the log,
// answers the watchdog, and tries again every storageRetry: a storage
// fault never makes it exit and restart in a loop. Only another process
// holding the file (store.ErrLocked) and the end of ctx end the wait.
func (a *Agent) openStateRetrying(ctx context.Context) (*store.Store, *journal.Journal, *roster.Keeper, error) {
	defer a.storageDown.Store(false)
	for {
		st, j, ros, err := a.openState()
		if err == nil || errors.Is(err, store.ErrLocked) {
			return st, j, ros, err
		}
		a.setState(StateStorageError, "state file not usable")
		a.log.Error("STORAGE ERROR: the state file cannot be opened; no punch is taken until it can; call service",
			"err", err, "retry_in", storageRetry.String())
		a.show([]string{"Storage ERROR,", "call service"})
		a.storageDown.Store(true)
		t := a.clk.NewTimer(storageRetry)
	wait:
		for {
			select {
			case p := <-a.probes: // the clock is responsive: it is waiting on its disk
				close(p)
			case <-t.C():
				break wait
			case <-ctx.Done():
				t.Stop()
				return nil, nil, nil, ctx.Err()
			}
		}
	}
}

// openState opens the state file (recovering a damaged one), the punch
// journal and the roster, and imports the roster file if one is
// configured. A bad roster file is logged and the stored roster kept: the
// clock still punches.
func (a *Agent) openState() (*store.Store, *journal.Journal, *roster.Keeper, error) {
	log := a.log
	st, err := store.Open(a.cfg.StateDir, store.Options{
		Logger: log, Clock: a.clk,
		Rules:    append(journal.Rules(), roster.Rules()...),
		HadState: a.ids.Store().Present(),
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("agent: state: %w", err)
	}
	j, err := journal.Open(st, journal.Options{Logger: log, Capacity: a.cfg.Capacity,
		Retention: time.Duration(a.cfg.RetentionDays) * 24 * time.Hour})
	if err != nil {
		st.Close()
		return nil, nil, nil, fmt.Errorf("agent: %w", err)
	}
	ros, err := roster.Open(st)
	if err != nil {
		// The roster's rules passed every employee, yet they clash: the
		// clock runs on an empty roster until the next one.
		log.Error("stored roster not loaded; the next roster (file or cloud) replaces it; call service", "err", err)
	}
	if n, ok := st.Notice(); ok {
		log.Error("storage damaged: call service", "notice", n.Summary(), "aside", n.Aside)
	}
	if f := a.cfg.RosterFile; f != "" {
		res, err := ros.ImportFile(f)
		switch {
		case err != nil:
			log.Error("roster file rejected; the stored roster stays in force", "err", err)
		case res.Unchanged:
			log.Info("roster file unchanged", "version", res.Version, "employees", res.Employees)
		default:
			log.Info("roster imported", "file", f, "version", res.Version, "employees", res.Employees)
		}
	}
	if ros.Current().Len() == 0 {
		log.Warn("the roster is empty: every badge and PIN is unknown until one is loaded")
	}
	log.Info("journal open", "path", st.Path(), "pending", j.Pending(), "capacity", j.Capacity(), "last_seq", j.LastSeq())
	return st, j, ros, nil
}

// Journal is the punch journal while Run runs (nil otherwise), for the
// console.
func (a *Agent) Journal() *journal.Journal { return a.journal.Load() }

// ClearStorageNotice takes "Storage recovered, call service" off the idle
// screen for good once service has seen it (the console's "storage ack").
// cleared is false when there was no notice, or Run is not running.
func (a *Agent) ClearStorageNotice() (cleared bool, err error) {
	st := a.stateFile.Load()
	if st == nil || !st.Recovered() {
		return false, nil
	}
	if err := st.ClearNotice(); err != nil {
		return false, fmt.Errorf("agent: clear storage notice: %w", err)
	}
	a.log.Info("storage notice cleared")
	a.refresh() // the idle screen drops it now, not at the next minute
	return true, nil
}

// errOnboardAgain ends the punch loop of a disabled clock whose installer
// asked to set it up again.
var errOnboardAgain = errors.New("agent: onboarding again")

// serve runs the punch loop, and the cloud sync beside it while the clock
// has an identity. The sync ends with the loop.
func (a *Agent) serve(ctx context.Context, loop *punchLoop) error {
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	a.startSync(sctx, &wg, loop.st, loop.j, loop.ros, loop.fk)
	a.startUpdates(sctx, &wg)
	return loop.run(ctx)
}

// canOnboard: a disabled clock can be set up again once its last
// transmission is over, when it has a cloud to onboard to.
func (a *Agent) canOnboard() bool {
	return a.cfg.CloudURL != "" && a.phaseNow() == phaseDisabled
}
