// Package roster is a company's roster in the cloud: employees with their
// badges, PIN (kept only as HMAC-SHA256 with the roster's salt, the clock's
// own scheme), departments and active flag, under a version that every
// change bumps. It checks changes with the rules the clock's roster
// applies, so a clock never refuses what the cloud accepted, and builds the
// roster command body (wire.Roster) for a clock: full, or the delta from the
// version the clock has.
package roster

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
)

// The clock's roster limits (agent/roster); the tests check they agree.
const (
	MaxIDLen     = 32
	MaxNameLen   = 64
	MaxDeptLen   = 32
	MaxDepts     = 16
	MaxBadges    = 8
	MaxBadgeLen  = 20
	MinPINLen    = 4
	MaxPINLen    = 8
	MaxEmployees = 100_000
	SaltLen      = 16
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

// HashPIN is the clock's PIN hash: HMAC-SHA256 keyed with the roster salt.
func HashPIN(salt []byte, pin string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(pin))
	return m.Sum(nil)
}

func validPIN(pin string) bool {
	if len(pin) < MinPINLen || len(pin) > MaxPINLen {
		return false
	}
	return digits(pin)
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func printable(s string) bool {
	for _, c := range s {
		if c < ' ' || c == 0x7f || c == '\uFFFD' {
			return false
		}
	}
	return true
}

// normalizeBadge drops leading zeros, as the clock does.
func normalizeBadge(s string) (string, error) {
	if s == "" || len(s) > MaxBadgeLen {
		return "", fmt.Errorf("must be 1 to %d digits", MaxBadgeLen)
	}
	if !digits(s) {
		return "", fmt.Errorf("must be digits only")
	}
	if s = strings.TrimLeft(s, "0"); s == "" {
		s = "0"
	}
	return s, nil
}

// checkEmployee checks one employee's own fields (not the roster-wide
// uniqueness) and normalizes its badges; field is its name in errors.
func checkEmployee(field string, e *Employee) error {
	bad := func(sub, msg string) error { return &Error{Field: field + "." + sub, Msg: msg} }
	switch {
	case e.ID == "" || len(e.ID) > MaxIDLen:
		return bad("id", fmt.Sprintf("must be 1 to %d characters", MaxIDLen))
	case strings.ContainsAny(e.ID, " \t") || !printable(e.ID):
		return bad("id", "must not contain spaces or control characters")
	case strings.TrimSpace(e.Name) == "" || len([]rune(e.Name)) > MaxNameLen:
		return bad("name", fmt.Sprintf("must be 1 to %d characters", MaxNameLen))
	case !printable(e.Name):
		return bad("name", "must not contain control characters")
	case len(e.Badges) > MaxBadges:
		return bad("badges", fmt.Sprintf("at most %d badges", MaxBadges))
	case len(e.Departments) > MaxDepts:
		return bad("departments", fmt.Sprintf("at most %d departments", MaxDepts))
	case e.PIN != nil && *e.PIN != "" && !validPIN(*e.PIN):
		return bad("pin", fmt.Sprintf("must be %d to %d digits", MinPINLen, MaxPINLen)) // never echo it
	}
	e.Badges = slices.Clone(e.Badges)
	seen := map[string]bool{}
	for k, b := range e.Badges {
		n, err := normalizeBadge(b)
		if err != nil {
			return bad(fmt.Sprintf("badges[%d]", k), err.Error())
		}
		if seen[n] {
			return bad(fmt.Sprintf("badges[%d]", k), "listed twice")
		}
		seen[n] = true
		e.Badges[k] = n
	}
	depts := map[string]bool{}
	for k, d := range e.Departments {
		if strings.TrimSpace(d) == "" || len([]rune(d)) > MaxDeptLen || !printable(d) {
			return bad(fmt.Sprintf("departments[%d]", k), fmt.Sprintf("must be 1 to %d printable characters", MaxDeptLen))
		}
		if depts[d] {
			return bad(fmt.Sprintf("departments[%d]", k), fmt.Sprintf("%q listed twice", d))
		}
		depts[d] = true
	}
	return nil
}
