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
	"sort"
	"strings"

	"timeclock/wire"
)

// Employee is one person on the roster.
type Employee struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Badges are normalized roster badges (wire.ParseBadge): a card
	// number alone "34567", with its facility code "12:34567", or an
	// EM4100 whole ID "em:62E3086CED".
	Badges []string `json:"badges,omitempty"`
	// PINHash is HMAC-SHA256 keyed with the roster's salt; nil for no PIN.
	PINHash     []byte   `json:"pin_hash,omitempty"`
	Departments []string `json:"departments,omitempty"`
	Active      bool     `json:"active"`
	// Supervisor may open the clock's enrollment menu (# on the idle
	// screen) and enroll employees' fingers.
	Supervisor bool `json:"supervisor,omitempty"`
}

// Roster is an immutable, indexed set of employees.
type Roster struct {
	version   uint64
	salt      []byte
	employees []Employee // sorted by ID
	badges    badgeIndex
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
		badges:    badgeIndex{byBadge: map[string]int{}, byCard: map[string]int{}}, byPIN: map[string]int{},
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
	// sort.Slice: a generic sort would compile a copy for Employee (~8 KiB
	// of the ARM binary); sort.Slice's one copy is linked anyway.
	sort.Slice(r.employees, func(i, j int) bool { return r.employees[i].ID < r.employees[j].ID })
	var collisions wire.BadgeIndex
	for i, e := range r.employees {
		for k, b := range e.Badges {
			if err := collisions.Add(e.ID, b); err != nil {
				return nil, &FieldError{ids[e.ID], fmt.Sprintf("badges[%d]", k), err.Error()}
			}
			r.badges.add(i, b)
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

// NormalizeBadge checks a roster badge in any of its forms and gives its
// one spelling: leading zeros dropped, so "0042" from one reader matches
// "42" from another (wire.NormalizeBadge).
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

// ByBadge finds the employee a badge read belongs to; key is the read in
// roster badge syntax ("12:34567", "em:62E3086CED", "77771716").
func (r *Roster) ByBadge(key string) (Employee, bool) {
	e, m := r.MatchBadge(key)
	return e, m.Found()
}

// MatchBadge is ByBadge saying how the read matched, or why not (see match).
func (r *Roster) MatchBadge(key string) (Employee, Match) {
	i, m := r.badges.match(key)
	if !m.Found() {
		return Employee{}, m
	}
	return r.employees[i], m
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
