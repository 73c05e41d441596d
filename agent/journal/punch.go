// Package journal is the clock's punch journal: every punch the screen
// accepted, fsynced before the screen says so, kept pending until the cloud
// acknowledges it, then kept as acked for the technician until retention
// compacts it away. It is the outbox the sync reads from; nothing else
// holds punches.
package journal

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"timeclock/clock"
)

// Kind is what a punch records.
type Kind uint8

// The punch kinds. Zero is "not chosen" (the flow infers IN or OUT).
const (
	KindIn Kind = iota + 1
	KindOut
	KindBreak
	KindLunch
)

var kindNames = [...]string{"", "IN", "OUT", "BREAK", "LUNCH"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Valid reports whether k is one of the four kinds.
func (k Kind) Valid() bool { return k >= KindIn && k <= KindLunch }

// ParseKind reads "IN", "OUT", "BREAK" or "LUNCH" (any case).
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if i > 0 && strings.EqualFold(n, s) {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("journal: unknown punch kind %q", s)
}

// State is where a punch is in its life.
type State uint8

// Punch states: pending until the cloud acknowledges it, then acked.
// (The names are shown, never stored: a record keeps its state as a flag
// bit, and acked punches stay in the bucket named punches_synced.)
const (
	StatePending State = iota + 1
	StateAcked
)

func (s State) String() string {
	switch s {
	case StatePending:
		return "pending"
	case StateAcked:
		return "acked"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// ID is a punch's device-made unique ID: 8 random bytes chosen when the
// state file was started, then the punch's sequence number. Unique across
// devices by the random half, and the sequence half lets an acknowledgement
// find the punch without an index.
type ID [16]byte

func makeID(nonce [8]byte, seq uint64) ID {
	var id ID
	copy(id[:8], nonce[:])
	binary.BigEndian.PutUint64(id[8:], seq)
	return id
}

// String is 32 lowercase hex digits.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Seq is the sequence half of the ID.
func (id ID) Seq() uint64 { return binary.BigEndian.Uint64(id[8:]) }

// ParseID reads String's form.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 32 {
		return id, fmt.Errorf("journal: punch ID %q: want 32 hex digits", s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("journal: punch ID %q: %w", s, err)
	}
	return id, nil
}

// MarshalText writes the ID as String does (for JSON).
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText reads ParseID's form.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	*id = v
	return err
}

// Punch is one recorded punch.
type Punch struct {
	ID  ID     // set by Append
	Seq uint64 // per-device sequence, strictly increasing; set by Append
	// Employee is the roster employee ID; empty for an unassigned punch
	// (an unknown badge), which has Badge instead.
	Employee string
	Name     string // the employee's name at the time, for the technician
	Badge    string // raw badge number of an unassigned punch
	Kind     Kind
	// Department is the chosen department, or the employee's only one.
	Department string
	// Time is when the punch was taken, UTC, millisecond precision.
	Time time.Time
	// TZ and TZOffset are the clock's zone and its offset (seconds east
	// of UTC) at Time, so the cloud can show local time as the screen did.
	TZ       string
	TZOffset int
	// Source is how the clock knew the time when the punch was taken
	// (ntp, cloud, rtc-unverified, unset). ClockSet is the older, coarser
	// fact the wire keeps for old clouds: the source is not unset.
	Source   clock.Source
	ClockSet bool
	// BootID and SinceBoot (CLOCK_BOOTTIME) let the time be corrected once
	// real time is known in the same boot; a punch whose time nothing
	// vouched for (unset, rtc-unverified) carries them.
	BootID    string
	SinceBoot time.Duration
	// Corrected says Time was rewritten from BootID and SinceBoot;
	// OriginalTime is the time it had before (zero when not known: punches
	// corrected before the time sources came).
	Corrected    bool
	OriginalTime time.Time
	// Finger says the employee was identified by a fingerprint the
	// module matched; MatchScore is the module's confidence. Never the
	// template, which stays on the module.
	Finger     bool
	MatchScore int
	// sections are the record's sections this version does not know (a
	// later version's fields), as read: tag, length, payload each, tags
	// ascending. A rewrite (ack, clock correction) writes them back as
	// they were, so a rolled-back version keeps what the newer one wrote.
	sections string
	State    State     // set by the journal
	AckedAt  time.Time // when the cloud acknowledged it
}

// Unassigned reports whether the punch is an unknown badge's.
func (p Punch) Unassigned() bool { return p.Employee == "" }

// Who is the employee ID, or "badge N" for an unassigned punch.
func (p Punch) Who() string {
	if p.Employee == "" {
		return "badge " + p.Badge
	}
	return p.Employee
}
