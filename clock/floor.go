package clock

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// buildTime is set by the linker (-X timeclock/clock.buildTime=RFC3339) when
// the build has no VCS stamp; BuildTime prefers it.
var buildTime string

// BuildTime is when this binary was built: the linker's buildTime, else the
// commit time Go stamps into the binary (vcs.time), else zero. A clock is
// never earlier than the binary it runs.
func BuildTime() time.Time {
	if t, err := time.Parse(time.RFC3339, buildTime); err == nil {
		return t.UTC()
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					return t.UTC()
				}
			}
		}
	}
	return time.Time{}
}

// Ceiling is how far above the floor a time is still believed.
const Ceiling = 20 * 365 * 24 * time.Hour

// Errors of Floor.Check; a refused sample wraps one of them.
var (
	ErrBelowFloor   = errors.New("below the time floor")
	ErrAboveCeiling = errors.New("more than 20 years above the time floor")
)

// Floor is the lower bound on the true time that every time decision and
// certificate check uses: the latest of the build time, the last-known-good
// time kept in the state file, and the clock itself once a trusted source
// (NTP or the cloud) vouched for it. The clock's own reading counts only when
// trusted: a battery-less RTC running ahead would otherwise lift the floor
// above the true time and lock the correction out for ever.
type Floor struct {
	Build    time.Time // BuildTime()
	LastGood time.Time // the state file's last-known-good time; zero when none
}

// At is the floor when the clock shows now; trusted says a trusted source
// set or confirmed the clock this boot. It is never below MinValid, so a
// binary without a build time still refuses 1970.
func (f Floor) At(now time.Time, trusted bool) time.Time {
	t := MinValid
	if f.Build.After(t) {
		t = f.Build
	}
	if f.LastGood.After(t) {
		t = f.LastGood
	}
	if trusted && now.After(t) {
		t = now
	}
	return t
}

// FloorSlack is how far below the floor a sample may still lie: the floor's
// own parts carry the clock's error when they were read (a clock set from a
// Date header may run up to half a second ahead, and the last-known-good
// time is saved from it), so the floor refuses wrong dates, not the
// measurement error of right ones.
const FloorSlack = 10 * time.Minute

// Check refuses a time more than FloorSlack below floor or more than
// Ceiling above it.
func Check(t, floor time.Time) error {
	switch {
	case t.Before(floor.Add(-FloorSlack)):
		return fmt.Errorf("%s: %w %s", t.UTC().Format(time.RFC3339), ErrBelowFloor, floor.UTC().Format(time.RFC3339))
	case t.After(floor.Add(Ceiling)):
		return fmt.Errorf("%s: %w %s", t.UTC().Format(time.RFC3339), ErrAboveCeiling, floor.UTC().Format(time.RFC3339))
	}
	return nil
}

// Raise returns the time to check certificates with: now, or the floor when
// the clock shows less (a board booted at 1970 still verifies a certificate
// issued after its firmware was built).
func Raise(now, floor time.Time) time.Time {
	if now.Before(floor) {
		return floor
	}
	return now
}
