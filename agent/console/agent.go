package console

import (
	"context"
	"errors"
	"io"
	"time"
)

// Field is one key=value line of the status, time or config output.
type Field struct{ Key, Value string }

// Agent is what the console asks of the running clock. The agent implements
// it in agent/console_glue.go; a subsystem this build lacks answers with
// Missing, which the console prints as it is ("punches: the punch journal
// is not in this build yet").
type Agent interface {
	Reporter
	PunchLister
	Syncer
	NetChecker
	Maintainer
	StorageKeeper
	PasscodeSource
	TimeSetter
}

// TimeSetter sets a standalone clock's time and zone by hand (a clock
// with a cloud refuses: the cloud sets both).
type TimeSetter interface {
	// SetTime sets the clock to t, returning the time it showed before.
	SetTime(ctx context.Context, t time.Time) (old time.Time, err error)
	// SetZone makes zone (IANA) the clock's zone, durably.
	SetZone(zone string) error
	// Zone is the clock's zone, for reading a local time typed in.
	Zone() *time.Location
}

// Reporter describes the clock.
type Reporter interface {
	// Status is the status as ordered key=value pairs, starting with state,
	// pending, synced and network (agent.Status().Fields()).
	Status() []Field
	// Time describes the clock's time: local time, zone, UTC, whether it is
	// synced.
	Time() []Field
	// Config is the running configuration with secrets left out.
	Config() []Field
}

// PunchLister reads the punch journal.
type PunchLister interface {
	// Punches returns at most n punches, one line each: the pending ones
	// oldest first (which == Pending) or the most recent ones newest first
	// (which == Recent).
	Punches(ctx context.Context, which PunchList, n int) ([]string, error)
	// PendingPunches counts the punches the cloud has not acknowledged.
	PendingPunches() (int, error)
}

// PunchList says which punches to list.
type PunchList string

// The lists "punches" shows.
const (
	Pending PunchList = "pending"
	Recent  PunchList = "recent"
)

// Syncer drives the cloud sync.
type Syncer interface {
	// Sync connects now and sends what is pending, writing progress lines
	// to out, until done or ctx is cancelled (Ctrl-C).
	Sync(ctx context.Context, out io.Writer) error
}

// NetChecker runs the network check.
type NetChecker interface {
	// NetCheck runs the LAN-first network check, one line per step (link,
	// address, route, DNS, each port, TLS), until done or ctx is cancelled.
	NetCheck(ctx context.Context, out io.Writer) error
}

// Maintainer restarts and resets the clock. The console has asked the
// technician to confirm before it calls these.
type Maintainer interface {
	// Reboot restarts the clock.
	Reboot(ctx context.Context) error
	// FactoryReset erases the clock's durable state (punches, roster,
	// identity) and restarts it.
	FactoryReset(ctx context.Context) error
	// Onboard starts onboarding again on the clock's screen.
	Onboard(ctx context.Context) error
}

// StorageKeeper reports on the clock's state file and clears the notice
// its recovery leaves on the clock's screen.
type StorageKeeper interface {
	// Storage describes the state file as ordered key=value pairs: path,
	// recovered (a damaged file was set aside and the screen says so),
	// recovered_at, recovered_reason, damaged (the files set aside, with
	// their sizes), pending, capacity and fill.
	Storage() ([]Field, error)
	// StorageNotice says what the recovery notice on the clock's screen is
	// about; ok is false when the screen shows none.
	StorageNotice() (about string, ok bool)
	// ClearStorageNotice takes the recovery notice off the clock's screen
	// for good; cleared is false when there was none. The console has
	// asked the technician to confirm.
	ClearStorageNotice() (cleared bool, err error)
}

// PasscodeSource reads the technician passcode hash set at activation.
type PasscodeSource interface {
	// PasscodeHash returns the hash kept with the device identity, or ""
	// when there is none (not activated yet).
	PasscodeHash() (string, error)
}

// NotInBuild is the error of a command whose subsystem this build lacks.
type NotInBuild struct {
	// What names the subsystem: "the punch journal".
	What string
}

func (e *NotInBuild) Error() string { return e.What + " is not in this build yet" }

// Missing returns a NotInBuild error for the subsystem what.
func Missing(what string) error { return &NotInBuild{What: what} }

// IsMissing reports whether err says a subsystem is not in this build.
func IsMissing(err error) bool {
	var nib *NotInBuild
	return errors.As(err, &nib)
}
