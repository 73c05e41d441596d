package store

import (
	"encoding/json"
	"time"

	"timeclock/wire"
)

// Punch is a punch as the cloud stored it: keyed by device and the punch's
// own ID, so a clock sending it again changes nothing.
type Punch struct {
	DeviceID  string `json:"device_id"`
	CompanyID string `json:"company_id"`
	wire.Punch
	ReceivedAt time.Time `json:"received_at"`
	// Final says it came in the clock's last transmission before disable.
	Final bool `json:"final,omitempty"`
	// CorrectedAt is when the cloud stored a correction of a punch it first
	// got with its uncorrected time: Time is then the corrected time and
	// OriginalTime the time first stored (see CorrectPunch).
	CorrectedAt time.Time `json:"corrected_at,omitzero"`
}

// UnmarshalJSON decodes the record's own fields beside the punch's. Without
// it, wire.Punch's UnmarshalJSON (which reads punches stored before
// "synced" became "clock_set") is promoted and the record's fields are lost.
func (p *Punch) UnmarshalJSON(b []byte) error {
	var own struct {
		DeviceID    string    `json:"device_id"`
		CompanyID   string    `json:"company_id"`
		ReceivedAt  time.Time `json:"received_at"`
		Final       bool      `json:"final"`
		CorrectedAt time.Time `json:"corrected_at"`
	}
	if err := json.Unmarshal(b, &own); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &p.Punch); err != nil {
		return err
	}
	p.DeviceID, p.CompanyID, p.ReceivedAt, p.Final = own.DeviceID, own.CompanyID, own.ReceivedAt, own.Final
	p.CorrectedAt = own.CorrectedAt
	return nil
}

// Correct applies a clock's correction c (same ID, Corrected) to the stored
// punch p: the corrected time goes in Time, the time first stored stays as
// OriginalTime, and the punch is marked corrected. A punch already
// corrected is left as it is (a resent correction changes nothing); changed
// says whether p changed.
func (p *Punch) Correct(c wire.Punch, at time.Time) (changed bool) {
	if p.Corrected || !c.Corrected {
		return false
	}
	p.OriginalTime = p.Time
	p.Time, p.TZOffset, p.Corrected = c.Time, c.TZOffset, true
	p.BootID, p.MonoNS = "", 0
	p.CorrectedAt = at
	return true
}

// Command is a command on its way to a clock: kept until the clock answers
// it (cmd/result), sent again when the clock comes back online.
type Command struct {
	DeviceID string       `json:"device_id"`
	Cmd      wire.Command `json:"cmd"`
	// Retained commands (disable) also wait on the broker as the cmd
	// topic's retained message, for a clock that connects later.
	Retained bool `json:"retained,omitempty"`
	// A roster command is rebuilt from the company roster when sent, so the
	// outbox does not hold the roster per clock: which version, and a full
	// roster or a delta from RosterBase.
	RosterVersion uint64    `json:"roster_version,omitempty"`
	RosterBase    uint64    `json:"roster_base,omitempty"`
	RosterFull    bool      `json:"roster_full,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	SentAt        time.Time `json:"sent_at,omitzero"`
	Sends         int       `json:"sends,omitempty"`
}

// BiometricRecord is a clock's consent or deletion record for one
// employee, as the cloud stored it. It holds no biometric data: the
// templates never leave the clocks' fingerprint modules.
type BiometricRecord struct {
	CompanyID string `json:"company_id"`
	DeviceID  string `json:"device_id"`
	wire.BiometricReport
	ReceivedAt time.Time `json:"received_at"`
}

// Roster is a company's roster header: its version (bumped by every change)
// and the salt its PIN hashes are keyed with.
type Roster struct {
	CompanyID string    `json:"company_id"`
	Version   uint64    `json:"version"`
	Salt      []byte    `json:"salt"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// RosterEmployee is one employee of a company roster. Version is the roster
// version that last changed it; a removed employee stays as a tombstone
// (Removed, with the version that removed it) so a delta from any older
// version can name it.
type RosterEmployee struct {
	CompanyID   string   `json:"company_id"`
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Badges      []string `json:"badges,omitempty"`
	PINHash     []byte   `json:"pin_hash,omitempty"` // HMAC-SHA256(Roster.Salt, PIN); the PIN is never stored
	Departments []string `json:"departments,omitempty"`
	Active      bool     `json:"active"`
	Supervisor  bool     `json:"supervisor,omitempty"` // may enroll fingers at the clocks
	Version     uint64   `json:"version"`
	Removed     bool     `json:"removed,omitempty"`
}
