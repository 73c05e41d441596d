// Package roster is a company's roster in the cloud: employees with their
// badges, PIN (kept only as HMAC-SHA256 with the roster's salt, the clock's
// own scheme), departments and active flag, under a version that every
// change bumps. It checks changes with the rules the clock's roster
// applies, so a clock never refuses what the cloud accepted, and builds the
// roster command body (wire.Roster) for a clock: full, or the delta from the
// version the clock has.
package roster

import (
	"fmt"

	"timeclock/wire"
)

// Error names what is wrong with a change; nothing of it is applied.
type Error struct {
	Field string // e.g. "upsert[2].badges[0]"
	Msg   string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return "roster: " + e.Msg
	}
	return "roster: " + e.Field + ": " + e.Msg
}

// HashPIN is the clock's PIN hash: HMAC-SHA256 keyed with the roster salt
// (wire.HashPIN).
func HashPIN(salt []byte, pin string) []byte { return wire.HashPIN(salt, pin) }

// checkEmployee checks one employee's own fields (not the roster-wide
// uniqueness) with the clock's rules (wire.CheckEmployee) and normalizes its
// badges; field is its name in errors.
func checkEmployee(field string, e *Employee) error {
	badges, ferr := wire.CheckEmployee(e.ID, e.Name, e.Badges, e.Departments)
	switch {
	case ferr != nil:
		return &Error{Field: field + "." + ferr.Field, Msg: ferr.Msg}
	case e.PIN != nil && *e.PIN != "" && !wire.ValidPIN(*e.PIN):
		return &Error{Field: field + ".pin", Msg: fmt.Sprintf("must be %d to %d digits", wire.MinPINLen, wire.MaxPINLen)} // never echo it
	}
	e.Badges = badges
	return nil
}
