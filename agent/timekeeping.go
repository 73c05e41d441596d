package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"timeclock/agent/store"
	"timeclock/clock"
)

// This file is the agent's part in keeping time: the keeper (clock.Keeper,
// made in New) decides how the time is known and sets the clock from the
// cloud's time, which the onboarding client and the sync feed it; the agent
// keeps the time floor's last-known-good time in the state file.

// lastGoodEvery is how often the last-known-good time is saved while a
// trusted source vouches for the clock (and once more at shutdown).
const lastGoodEvery = 5 * time.Minute

// loadLastGood raises the keeper's floor to the state file's
// last-known-good time.
func (a *Agent) loadLastGood(st *store.Store) {
	if t := st.LastGood(); !t.IsZero() {
		a.keeper.SetLastGood(t)
		a.log.Info("time floor", "last_known_good", t.Format(time.RFC3339), "floor", a.keeper.Floor().UTC().Format(time.RFC3339))
	}
}

// saveLastGood stores the clock's time as last-known-good when a trusted
// source vouches for it, at most every lastGoodEvery unless force.
func (a *Agent) saveLastGood(st *store.Store, force bool) {
	if !a.keeper.Source().Known() {
		return
	}
	now := a.clk.Now()
	a.lastGoodMu.Lock()
	defer a.lastGoodMu.Unlock()
	if !force && !a.lastGoodAt.IsZero() && now.Sub(a.lastGoodAt) < lastGoodEvery {
		return
	}
	if err := st.SaveLastGood(now); err != nil {
		a.log.Error("saving the last-known-good time", "err", err)
		return
	}
	a.lastGoodAt = now
}

// errCloudTime refuses setting the time or zone by hand on a clock with a
// cloud: the cloud sets both.
var errCloudTime = errors.New("this clock has a cloud: it takes its time and zone from the cloud")

// SetTime sets a standalone clock's time by hand (the console's time set),
// logging the old and the new time. It refuses on a clock with a cloud, on
// one an NTP daemon keeps, and a time below the floor or 20 years above it.
func (a *Agent) SetTime(_ context.Context, t time.Time) (time.Time, error) {
	switch {
	case a.cfg.CloudURL != "":
		return time.Time{}, errCloudTime
	case a.keeper.Source() == clock.SourceNTP:
		return time.Time{}, errors.New("an NTP daemon keeps this clock's time: set it there")
	case a.setter == nil:
		return time.Time{}, errors.New("this clock cannot set its time")
	}
	if err := clock.Check(t, a.keeper.Floor()); err != nil {
		a.log.Warn("time set by hand refused", "time", t.UTC().Format(time.RFC3339), "err", err)
		return time.Time{}, fmt.Errorf("time set: %w", err)
	}
	old := a.clk.Now()
	if err := a.setter.SetTime(t); err != nil {
		return old, fmt.Errorf("time set: %w", err)
	}
	a.log.Info(fmt.Sprintf("clock set by hand %s -> %s (console)", old.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339)),
		"from", old.UTC(), "to", t.UTC())
	a.refresh()
	return old, nil
}

// SetZone sets a standalone clock's zone (the console's time zone),
// durably in the state file; it wins over the config file's at start.
func (a *Agent) SetZone(zone string) error {
	if a.cfg.CloudURL != "" {
		return errCloudTime
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		return fmt.Errorf("zone %q: not an IANA zone this clock knows", zone)
	}
	st := a.stateFile.Load()
	if st == nil {
		return errors.New("the state file is not open")
	}
	if err := st.SetTimezone(zone); err != nil {
		return err
	}
	from := a.location()
	a.loc.Store(loc)
	a.log.Info(fmt.Sprintf("timezone %s -> %s (console)", from, loc), "from", from.String(), "to", loc.String())
	a.refresh()
	return nil
}

// loadZone takes the zone set at the console on a standalone clock.
func (a *Agent) loadZone(st *store.Store) {
	if a.cfg.CloudURL != "" {
		return
	}
	if z := st.Timezone(); z != "" {
		if loc, err := time.LoadLocation(z); err == nil {
			a.loc.Store(loc)
		}
	}
}
