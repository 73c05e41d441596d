package punchbook

import (
	"errors"
	"fmt"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/punchflow"
	"timeclock/agent/roster"
	"timeclock/clock"
)

// Lookup finds who swiped badge or typed pin (one of them is set), and
// their last punch.
func (b *Book) Lookup(badge, pin string) punchflow.Person {
	r := b.roster.Current()
	p := punchflow.Person{ViaPIN: pin != ""}
	if !p.ViaPIN {
		// Unknown badges are recorded (and deduplicated) by their number
		// as the roster would match it: "0099" and "99" are one badge.
		p.Badge = badge
		if n, err := roster.NormalizeBadge(badge); err == nil {
			p.Badge = n
		}
	}
	var last journal.Last
	var ok bool
	var err error
	if p.ViaPIN {
		emp, found := r.ByPIN(pin)
		if found {
			p.Found, p.Employee, p.Name, p.Departments, p.Active = true, emp.ID, emp.Name, emp.Departments, emp.Active
		} else {
			b.log.Info("unknown PIN") // the digits are never logged
		}
	} else {
		emp, found := r.ByBadge(badge)
		if found {
			p.Found, p.Employee, p.Name, p.Departments, p.Active = true, emp.ID, emp.Name, emp.Departments, emp.Active
		} else {
			b.log.Info("unknown badge", "badge", p.Badge)
		}
	}
	switch {
	case p.Found:
		last, ok, err = b.journal.LastOf(p.Employee)
	case !p.ViaPIN:
		last, ok, err = b.journal.LastOfBadge(p.Badge)
	}
	if err != nil {
		b.log.Error("last punch unreadable; inferring IN", "who", p.Employee, "err", err)
	}
	if ok {
		p.Last = &last
	}
	return p
}

// Record stamps the punch with the time and the clock's state and appends
// it durably, returning it as stored. Only after it returns does the screen
// say accepted. A full journal refuses the punch (journal.ErrFull) and
// overwrites nothing.
func (b *Book) Record(p journal.Punch) (journal.Punch, error) {
	now := b.o.Clock.Now()
	loc := b.o.Location()
	p.Time = now
	p.TZ = loc.String()
	_, p.TZOffset = now.In(loc).Zone()
	p.ClockSynced = clock.IsSet(now)
	if !p.ClockSynced {
		p.BootID, p.SinceBoot = b.o.BootID, b.o.SinceBoot()
	} else {
		b.correctClock(now)
	}
	out, err := b.journal.Append(p)
	switch {
	case errors.Is(err, journal.ErrFull):
		b.log.Error("STORAGE FULL: punch refused, nothing overwritten; call service",
			"who", p.Who(), "kind", p.Kind.String(), "pending", b.journal.Pending(), "capacity", b.journal.Capacity())
		return journal.Punch{}, err
	case err != nil:
		b.log.Error("punch NOT recorded", "who", p.Who(), "kind", p.Kind.String(), "err", err)
		return journal.Punch{}, err
	}
	b.o.Punched()
	b.log.Info("punch recorded", "seq", out.Seq, "id", out.ID.String(), "kind", out.Kind.String(),
		"who", out.Who(), "department", out.Department, "clock_synced", out.ClockSynced)
	b.checkFill()
	return out, nil
}

// checkFill logs once when the journal crosses the warning level.
func (b *Book) checkFill() {
	fill := b.journal.Fill()
	switch {
	case fill >= journal.WarnFill && !b.fillWarned:
		b.fillWarned = true
		b.log.Warn(fmt.Sprintf("storage %d%% full: punches are not reaching the cloud", int(fill*100)),
			"pending", b.journal.Pending(), "capacity", b.journal.Capacity())
	case fill < journal.WarnFill:
		b.fillWarned = false
	}
}

// Maintain runs the idle-time housekeeping: clock correction once the clock
// is set, daily compaction of old synced punches, the storage warning.
func (b *Book) Maintain() {
	now := b.o.Clock.Now()
	b.correctClock(now)
	if b.lastCompact.IsZero() || now.Sub(b.lastCompact) >= 24*time.Hour || now.Before(b.lastCompact) {
		b.lastCompact = now
		if _, err := b.journal.Compact(now); err != nil {
			b.log.Error("compaction", "err", err)
		}
	}
	b.checkFill()
}

// correctClock moves the punches taken on an unset clock to real time once
// the clock is set.
func (b *Book) correctClock(now time.Time) {
	if b.journal.UnsetClock() == 0 || !clock.IsSet(now) {
		return
	}
	if _, err := b.journal.CorrectClock(b.o.BootID, now, b.o.SinceBoot()); err != nil {
		b.log.Error("clock correction", "err", err)
	}
}
