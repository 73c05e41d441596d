package agent

import (
	"fmt"
	"sync/atomic"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/roster"
	"timeclock/agent/store"
)

// durable is the open state file: journal and roster.
type durable struct {
	store     *store.Store
	journal   *journal.Journal
	roster    *roster.Book
	recovered atomic.Bool // a damaged file was set aside: the idle screen says so
}

// ClearStorageNotice removes "Storage recovered, call service" once service
// has seen it (the console's job). It is a no-op when Run is not running.
func (a *Agent) ClearStorageNotice() error {
	d := a.dur.Load()
	if d == nil || !d.recovered.Load() {
		return nil
	}
	if err := d.store.ClearNotice(); err != nil {
		return fmt.Errorf("agent: clear storage notice: %w", err)
	}
	d.recovered.Store(false)
	a.log.Info("storage notice cleared")
	return nil
}

// Journal is the punch journal while Run runs (nil otherwise), for the
// sync and the console.
func (a *Agent) Journal() *journal.Journal {
	if d := a.dur.Load(); d != nil {
		return d.journal
	}
	return nil
}

// openDurable opens the state file (recovering a damaged one), the journal
// and the roster, and imports the roster file if one is configured. A bad
// roster file is logged and the stored roster kept: the clock still punches.
func (a *Agent) openDurable() (*durable, error) {
	st, err := store.Open(a.cfg.StateDir, store.Options{Logger: a.log, Clock: a.clk})
	if err != nil {
		return nil, fmt.Errorf("agent: state: %w", err)
	}
	j, err := journal.Open(st, journal.Options{
		Logger:    a.log,
		Capacity:  a.cfg.Capacity,
		Retention: time.Duration(a.cfg.RetentionDays) * 24 * time.Hour,
	})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("agent: %w", err)
	}
	book, err := roster.Open(st)
	if err != nil {
		j.Close()
		st.Close()
		return nil, fmt.Errorf("agent: %w", err)
	}
	d := &durable{store: st, journal: j, roster: book}
	if n, ok := st.Notice(); ok {
		d.recovered.Store(true)
		a.log.Error("storage was recovered: a damaged state file was set aside; call service",
			"reason", n.Reason, "aside", n.Aside, "at", n.At.Format(time.RFC3339))
	}
	if a.cfg.RosterFile != "" {
		res, err := book.ImportFile(a.cfg.RosterFile)
		switch {
		case err != nil:
			a.log.Error("roster file rejected; the stored roster stays in force", "err", err)
		case res.Unchanged:
			a.log.Info("roster file unchanged", "version", res.Version, "employees", res.Employees)
		default:
			a.log.Info("roster imported", "file", a.cfg.RosterFile, "version", res.Version, "employees", res.Employees)
		}
	}
	if book.Current().Len() == 0 {
		a.log.Warn("the roster is empty: every badge and PIN is unknown until one is loaded")
	}
	a.log.Info("journal open", "path", st.Path(), "pending", j.Pending(), "capacity", j.Capacity(), "last_seq", j.LastSeq())
	return d, nil
}

func (d *durable) close() error {
	d.journal.Close()
	return d.store.Close()
}
