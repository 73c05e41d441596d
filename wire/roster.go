package wire

import (
	"errors"
	"fmt"
)

// Roster is the body of a roster command (Command.Roster): the company's
// employees as the clock needs them, full or as a delta, versioned.
//
// PINs never travel in clear: PINHash is HMAC-SHA256 keyed with Salt over
// the PIN's digits, the clock's own scheme (agent/roster.HashPIN), so the
// clock stores the hashes as they come. The salt is the company roster's
// and does not change between versions.
//
// A full roster replaces everything the clock has. A delta applies only to
// a clock whose roster is exactly BaseVersion with the same Salt: it
// replaces or adds the employees listed and drops the IDs in Removed (an ID
// the clock does not have is not an error). Anything else is refused whole
// and the clock answers an error result; the cloud then sends a full roster.
type Roster struct {
	Version     uint64           `json:"version"`
	Full        bool             `json:"full"`
	BaseVersion uint64           `json:"base_version,omitempty"` // delta only
	Salt        []byte           `json:"salt"`                   // base64 in JSON
	Employees   []RosterEmployee `json:"employees"`
	Removed     []string         `json:"removed,omitempty"` // delta only
}

// RosterEmployee is one employee on the roster.
type RosterEmployee struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Badges []string `json:"badges,omitempty"` // normalized: "34567", "12:34567" or "em:62E3086CED" (wire.ParseBadge)
	// PINHash is HMAC-SHA256(Salt, PIN), 32 bytes (base64 in JSON); absent
	// for an employee without a PIN.
	PINHash     []byte   `json:"pin_hash,omitempty"`
	Departments []string `json:"departments,omitempty"`
	Active      bool     `json:"active"`
	// Supervisor may enroll fingers at the clock.
	Supervisor bool `json:"supervisor,omitempty"`
}

// Roster limits checked by DecodeRoster. The clock's roster package checks
// the field rules (lengths, badge digits, unique badges and PINs) again.
const (
	MaxRosterEmployees = 100_000
	MinRosterSalt      = 16
	maxRosterSalt      = 64
	pinHashLen         = 32
	maxRosterIDLen     = 32
)

// DecodeRoster decodes and checks the shape of a roster body.
func DecodeRoster(b []byte) (Roster, error) {
	var r Roster
	if err := decode(b, "roster", &r); err != nil {
		return r, err
	}
	if err := r.Validate(); err != nil {
		return r, payloadErr("roster", err)
	}
	return r, nil
}

// Validate checks the roster's shape: version, salt, delta fields, unique
// IDs and PIN hash lengths.
func (r Roster) Validate() error {
	switch {
	case r.Version == 0:
		return errors.New("version: 0")
	case len(r.Salt) < MinRosterSalt || len(r.Salt) > maxRosterSalt:
		return fmt.Errorf("salt: %d bytes, want %d-%d", len(r.Salt), MinRosterSalt, maxRosterSalt)
	case len(r.Employees) > MaxRosterEmployees:
		return fmt.Errorf("%d employees, at most %d", len(r.Employees), MaxRosterEmployees)
	case len(r.Removed) > MaxRosterEmployees:
		return fmt.Errorf("%d removed, at most %d", len(r.Removed), MaxRosterEmployees)
	case r.Full && (r.BaseVersion != 0 || len(r.Removed) != 0):
		return errors.New("a full roster has no base_version or removed")
	case !r.Full && r.BaseVersion >= r.Version:
		return fmt.Errorf("delta: base_version %d is not below version %d", r.BaseVersion, r.Version)
	}
	ids := make(map[string]bool, len(r.Employees))
	for i, e := range r.Employees {
		if e.ID == "" || len(e.ID) > maxRosterIDLen {
			return fmt.Errorf("employees[%d].id: %d characters, want 1-%d", i, len(e.ID), maxRosterIDLen)
		}
		if ids[e.ID] {
			return fmt.Errorf("employees[%d].id: %q listed twice", i, e.ID)
		}
		ids[e.ID] = true
		if e.PINHash != nil && len(e.PINHash) != pinHashLen {
			return fmt.Errorf("employees[%d].pin_hash: %d bytes, want %d", i, len(e.PINHash), pinHashLen)
		}
	}
	for i, id := range r.Removed {
		if id == "" || len(id) > maxRosterIDLen {
			return fmt.Errorf("removed[%d]: %d characters, want 1-%d", i, len(id), maxRosterIDLen)
		}
		if ids[id] {
			return fmt.Errorf("removed[%d]: %q is also in employees", i, id)
		}
	}
	return nil
}
