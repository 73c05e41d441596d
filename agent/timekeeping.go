package agent

import (
	"time"

	"timeclock/agent/store"
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
