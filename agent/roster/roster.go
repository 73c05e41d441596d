// Package roster is who may punch at this clock: employees with their
// badges, PIN (as a salted hash), departments and active flag, under a
// roster version. A roster is immutable once built; a new one (from the
// roster file today, from the cloud later) replaces the whole of it in one
// transaction (Keeper.Replace), so a punch never sees half of each.
package roster

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"timeclock/wire"
)

// Employee is one person on the roster.
type Employee struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Badges are card numbers as decimal digits, without leading zeros.
	Badges []string `json:"badges,omitempty"`
	// PINHash is HMAC-SHA256 keyed with the roster's salt; nil for no PIN.
	PINHash     []byte   `json:"pin_hash,omitempty"`
	Departments []string `json:"departments,omitempty"`
	Active      bool     `json:"active"`
}

// Roster is an immutable, indexed set of employees.
type Roster struct {
	version   uint64
	salt      []byte
	employees []Employee // sorted by ID
	byBadge   map[string]int
	byPIN     map[string]int // key: string(PIN hash)
}

// FieldError names what is wrong with one employee.
type FieldError struct {
	Index int    // employee's position
	Field string // e.g. "badges[1]"
	Msg   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("employees[%d].%s: %s", e.Index, e.Field, e.Msg)
}

// New checks employees and builds a roster. Employees are checked as the
// file check does, so a roster pushed by the cloud meets the same rules.
func New(version uint64, salt []byte, employees []Employee) (*Roster, error) {
	if len(salt) < wire.PINSaltLen {
		return nil, fmt.Errorf("roster: salt of %d bytes, want at least %d", len(salt), wire.PINSaltLen)
	}
	if len(employees) > wire.MaxEmployees {
		return nil, fmt.Errorf("roster: %d employees, at most %d", len(employees), wire.MaxEmployees)
	}
	r := &Roster{
		version: version, salt: slices.Clone(salt),
		employees: make([]Employee, len(employees)),
		byBadge:   map[string]int{}, byPIN: map[string]int{},
	}
	ids := map[string]int{}
	for i, e := range employees {
		if err := checkEmployee(i, &e); err != nil {
			return nil, err
		}
		if j, dup := ids[e.ID]; dup {
			return nil, &FieldError{i, "id", fmt.Sprintf("%q is also employees[%d]", e.ID, j)}
		}
		ids[e.ID] = i
		r.employees[i] = e
	}
	slices.SortFunc(r.employees, func(a, b Employee) int { return strings.Compare(a.ID, b.ID) })
	for i, e := range r.employees {
		for _, b := range e.Badges {
			if j, dup := r.byBadge[b]; dup {
				return nil, &FieldError{ids[e.ID], "badges", fmt.Sprintf("badge %s already belongs to %s", b, r.employees[j].ID)}
			}
			r.byBadge[b] = i
		}
		if e.PINHash != nil {
			if j, dup := r.byPIN[string(e.PINHash)]; dup {
				return nil, &FieldError{ids[e.ID], "pin", "same PIN as " + r.employees[j].ID + " (PINs must be unique)"}
			}
			r.byPIN[string(e.PINHash)] = i
		}
	}
	return r, nil
}

// checkEmployee validates e and normalizes its badges in place: the rules
// the cloud enforces too (wire.CheckEmployee), then the clock's own.
func checkEmployee(i int, e *Employee) error {
	badges, ferr := wire.CheckEmployee(e.ID, e.Name, e.Badges, e.Departments)
	switch {
	case ferr != nil:
		return &FieldError{i, ferr.Field, ferr.Msg}
	case len(badges) == 0 && e.PINHash == nil:
		return &FieldError{i, "badges", "an employee needs a badge or a PIN"}
	case e.PINHash != nil && len(e.PINHash) != sha256.Size:
		return &FieldError{i, "pin_hash", "must be a SHA-256 HMAC (32 bytes)"}
	}
	e.Badges = badges
	return nil
}

// NormalizeBadge checks a card number and drops leading zeros, so "0042"
// from one reader matches "42" from another (wire.NormalizeBadge).
func NormalizeBadge(s string) (string, error) { return wire.NormalizeBadge(s) }

// ValidPIN reports whether pin has the PIN shape, 4-8 digits (wire.ValidPIN).
func ValidPIN(pin string) bool { return wire.ValidPIN(pin) }

// HashPIN hashes a PIN with a roster salt (wire.HashPIN). The state file is
// readable by root only.
func HashPIN(salt []byte, pin string) []byte { return wire.HashPIN(salt, pin) }

// Version is the roster's version.
func (r *Roster) Version() uint64 { return r.version }

// Salt is the PIN hash key (a copy).
func (r *Roster) Salt() []byte { return slices.Clone(r.salt) }

// Len is how many employees the roster has.
func (r *Roster) Len() int { return len(r.employees) }

// Employees returns the employees, sorted by ID (a copy).
func (r *Roster) Employees() []Employee { return slices.Clone(r.employees) }

// ByID finds an employee by ID.
func (r *Roster) ByID(id string) (Employee, bool) {
	i, ok := slices.BinarySearchFunc(r.employees, id, func(e Employee, id string) int { return strings.Compare(e.ID, id) })
	if !ok {
		return Employee{}, false
	}
	return r.employees[i], true
}

// ByBadge finds the employee holding a badge.
func (r *Roster) ByBadge(number string) (Employee, bool) {
	n, err := NormalizeBadge(number)
	if err != nil {
		return Employee{}, false
	}
	i, ok := r.byBadge[n]
	if !ok {
		return Employee{}, false
	}
	return r.employees[i], true
}

// ByPIN finds the employee with a PIN.
func (r *Roster) ByPIN(pin string) (Employee, bool) {
	if !ValidPIN(pin) {
		return Employee{}, false
	}
	i, ok := r.byPIN[string(HashPIN(r.salt, pin))]
	if !ok {
		return Employee{}, false
	}
	return r.employees[i], true
}
