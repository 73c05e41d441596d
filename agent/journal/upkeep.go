package journal

import (
	"errors"
	"fmt"
	"time"
)

// Record appends a punch the screen is about to accept (Append) and logs
// the outcome: a full journal refuses it (ErrFull) and overwrites nothing.
// It warns once when the journal crosses WarnFill. The punch loop records
// through it; only tests and benchmarks call Append and AppendBatch
// directly, to fill a journal fast.
func (j *Journal) Record(p Punch) (Punch, error) {
	out, err := j.Append(p)
	switch {
	case errors.Is(err, ErrFull):
		j.log.Error("STORAGE FULL: punch refused, nothing overwritten; call service",
			"who", p.Who(), "kind", p.Kind.String(), "pending", j.Pending(), "capacity", j.Capacity())
		return Punch{}, err
	case err != nil:
		j.log.Error("punch NOT recorded", "who", p.Who(), "kind", p.Kind.String(), "err", err)
		return Punch{}, err
	}
	j.log.Info("punch recorded", "seq", out.Seq, "id", out.ID.String(), "kind", out.Kind.String(),
		"who", out.Who(), "department", out.Department, "clock_set", out.ClockSet)
	j.checkFill()
	return out, nil
}

// Maintain is the housekeeping between punches: it compacts old
// acknowledged punches at most once a day (or when the clock went back),
// and warns when the journal crosses WarnFill.
func (j *Journal) Maintain(now time.Time) {
	j.mu.Lock()
	due := j.lastCompact.IsZero() || now.Sub(j.lastCompact) >= 24*time.Hour || now.Before(j.lastCompact)
	if due {
		j.lastCompact = now
	}
	j.mu.Unlock()
	if due {
		if _, err := j.Compact(now); err != nil {
			j.log.Error("compaction", "err", err)
		}
	}
	j.checkFill()
}

// checkFill logs once when the journal crosses the warning level, and again
// only after it fell below it.
func (j *Journal) checkFill() {
	fill := j.Fill()
	j.mu.Lock()
	warn := fill >= WarnFill && !j.fillWarned
	j.fillWarned = fill >= WarnFill
	j.mu.Unlock()
	if warn {
		j.log.Warn(fmt.Sprintf("storage %d%% full: punches are not reaching the cloud", int(fill*100)),
			"pending", j.Pending(), "capacity", j.Capacity())
	}
}
