package agent

import (
	"fmt"

	"timeclock/agent/disable"
	"timeclock/agent/punchbook"
)

// disablePhase is the clock's phase now.
func (a *Agent) disablePhase() disable.Phase { return disable.Phase(a.phase.Load()) }

// setPhase records the phase durably, then in memory, and logs the change.
func (a *Agent) setPhase(book *punchbook.Book, r *disable.Record, reason string) error {
	to := disable.Enabled
	if r != nil {
		to = r.Phase
	}
	if err := disable.Save(book.Store(), r); err != nil {
		return fmt.Errorf("agent: disable state: %w", err)
	}
	from := disable.Phase(a.phase.Swap(uint32(to)))
	if from != to {
		a.log.Warn(fmt.Sprintf("administrator %s -> %s (%s)", from, to, reason), "from", from.String(), "to", to.String(), "reason", reason)
	}
	return nil
}

// OnboardAgain forgets a disable and the identity, so the clock onboards
// again at its next start (the console's onboard).
func (a *Agent) OnboardAgain() error {
	if book := a.book.Load(); book != nil {
		if err := a.setPhase(book, nil, "onboarding again"); err != nil {
			return err
		}
	}
	return a.EraseIdentity()
}
