package agent

import (
	"fmt"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/punchbook"
)

// openBook opens the state file, the journal and the roster for Run.
func (a *Agent) openBook() (*punchbook.Book, error) {
	b, err := punchbook.Open(punchbook.Options{
		Dir:        a.cfg.StateDir,
		Capacity:   a.cfg.Capacity,
		Retention:  time.Duration(a.cfg.RetentionDays) * 24 * time.Hour,
		RosterFile: a.cfg.RosterFile,
		Logger:     a.log,
		Clock:      a.clk,
		Location:   a.location,
		BootID:     a.bootID,
		SinceBoot:  a.sinceBoot,
		Punched:    a.notifyPunch,
	})
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	return b, nil
}

// ClearStorageNotice removes "Storage recovered, call service" once service
// has seen it (the console's job). It is a no-op when Run is not running.
func (a *Agent) ClearStorageNotice() error {
	b := a.book.Load()
	if b == nil || !b.Recovered() {
		return nil
	}
	if err := b.ClearNotice(); err != nil {
		return fmt.Errorf("agent: clear storage notice: %w", err)
	}
	a.log.Info("storage notice cleared")
	return nil
}

// Journal is the punch journal while Run runs (nil otherwise), for the
// sync and the console.
func (a *Agent) Journal() *journal.Journal {
	if b := a.book.Load(); b != nil {
		return b.Journal()
	}
	return nil
}
