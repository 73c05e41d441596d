// Package punchbook is the durable side of punching: it opens the state
// file, the punch journal and the roster together, answers who swiped or
// typed (with their last punch), stamps punches with the time and the
// clock's state and appends them, and keeps the journal between punches
// (clock correction, compaction, the storage warning and the idle screen's
// notices). The agent's punch loop drives it; only that loop records.
package punchbook

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/roster"
	"timeclock/agent/store"
	"timeclock/clock"
)

// Options are what the book needs: where the state lives, the journal's
// limits, and what stamps a punch.
type Options struct {
	Dir        string // the state directory
	Capacity   int    // punches that may wait for the cloud
	Retention  time.Duration
	RosterFile string // a JSON roster imported at open; "" for none
	Logger     *slog.Logger
	Clock      clock.Clock
	// Location is the timezone punches are stamped with; the cloud may
	// change it while the clock runs.
	Location func() *time.Location
	// BootID and SinceBoot stamp punches taken on an unset clock, and
	// correct them once it is set.
	BootID    string
	SinceBoot func() time.Duration
	// Punched is called once a punch is in the journal (the sync's signal);
	// it must not block.
	Punched func()
}

// Book is the open state file: journal and roster.
type Book struct {
	o         Options
	log       *slog.Logger
	store     *store.Store
	journal   *journal.Journal
	roster    *roster.Keeper
	recovered atomic.Bool // a damaged file was set aside: the idle screen says so

	// Owned by the punch loop goroutine.
	fillWarned  bool
	lastCompact time.Time
}

// Open opens the state file (recovering a damaged one), the journal and the
// roster, and imports the roster file if one is configured. A bad roster
// file is logged and the stored roster kept: the clock still punches.
func Open(o Options) (*Book, error) {
	log := o.Logger
	st, err := store.Open(o.Dir, store.Options{Logger: log, Clock: o.Clock})
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	j, err := journal.Open(st, journal.Options{Logger: log, Capacity: o.Capacity, Retention: o.Retention})
	if err != nil {
		st.Close()
		return nil, err
	}
	book, err := roster.Open(st)
	if err != nil {
		j.Close()
		st.Close()
		return nil, err
	}
	b := &Book{o: o, log: log, store: st, journal: j, roster: book}
	if n, ok := st.Notice(); ok {
		b.recovered.Store(true)
		log.Error("storage was recovered: a damaged state file was set aside; call service",
			"reason", n.Reason, "aside", n.Aside, "at", n.At.Format(time.RFC3339))
	}
	if o.RosterFile != "" {
		res, err := book.ImportFile(o.RosterFile)
		switch {
		case err != nil:
			log.Error("roster file rejected; the stored roster stays in force", "err", err)
		case res.Unchanged:
			log.Info("roster file unchanged", "version", res.Version, "employees", res.Employees)
		default:
			log.Info("roster imported", "file", o.RosterFile, "version", res.Version, "employees", res.Employees)
		}
	}
	if book.Current().Len() == 0 {
		log.Warn("the roster is empty: every badge and PIN is unknown until one is loaded")
	}
	log.Info("journal open", "path", st.Path(), "pending", j.Pending(), "capacity", j.Capacity(), "last_seq", j.LastSeq())
	return b, nil
}

// Close closes the journal and the state file.
func (b *Book) Close() error {
	b.journal.Close()
	return b.store.Close()
}

// Store is the open state file, for what else the clock keeps in it (the
// sync's session, the disable record).
func (b *Book) Store() *store.Store { return b.store }

// Journal is the punch journal.
func (b *Book) Journal() *journal.Journal { return b.journal }

// Roster is who may punch here.
func (b *Book) Roster() *roster.Keeper { return b.roster }

// Recovered reports whether a damaged state file was set aside and service
// has not seen it yet ("Storage recovered, call service").
func (b *Book) Recovered() bool { return b.recovered.Load() }

// ClearNotice forgets the recovery once service has seen it.
func (b *Book) ClearNotice() error {
	if err := b.store.ClearNotice(); err != nil {
		return err
	}
	b.recovered.Store(false)
	return nil
}
