package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
)

// The rules of an employee record that the clock and the cloud both
// enforce, so a roster the cloud accepts is one every clock accepts.
const (
	MaxEmployeeIDLen = 32
	MaxNameLen       = 64
	MaxDeptLen       = 32
	MaxDepts         = 16
	MaxBadges        = 8
	MaxBadgeLen      = 20
	MinPINLen        = 4
	MaxPINLen        = 8
	MaxEmployees     = 100_000 // in one company's roster
	PINSaltLen       = 16      // bytes of the roster's PIN salt, at least
)

// HashPIN is the PIN hash clocks match on: HMAC-SHA256 keyed with the
// roster's salt. One keyed hash per lookup (not one per employee) keeps PIN
// entry fast on an ARM11.
func HashPIN(salt []byte, pin string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(pin))
	return m.Sum(nil)
}

// ValidPIN reports whether pin has the PIN shape: 4 to 8 digits.
func ValidPIN(pin string) bool {
	return len(pin) >= MinPINLen && len(pin) <= MaxPINLen && digits(pin)
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Printable reports whether s has no control characters (nor invalid UTF-8).
func Printable(s string) bool {
	for _, c := range s {
		if c < ' ' || c == 0x7f || c == '\uFFFD' {
			return false
		}
	}
	return true
}

// EmployeeFieldError names the field of an employee record that is wrong
// ("name", "badges[1]", ...). It never holds a PIN.
type EmployeeFieldError struct{ Field, Msg string }

func (e *EmployeeFieldError) Error() string { return e.Field + ": " + e.Msg }

// CheckEmployee checks the fields every employee record has and returns its
// badges normalized (a new slice). PINs are checked by each side, which
// holds them in different forms.
func CheckEmployee(id, name string, badges, departments []string) ([]string, *EmployeeFieldError) {
	bad := func(field, msg string) *EmployeeFieldError { return &EmployeeFieldError{field, msg} }
	switch {
	case id == "" || len(id) > MaxEmployeeIDLen:
		return nil, bad("id", fmt.Sprintf("must be 1 to %d characters", MaxEmployeeIDLen))
	case strings.ContainsAny(id, " \t") || !Printable(id):
		return nil, bad("id", "must not contain spaces or control characters")
	case strings.TrimSpace(name) == "" || len([]rune(name)) > MaxNameLen:
		return nil, bad("name", fmt.Sprintf("must be 1 to %d characters", MaxNameLen))
	case !Printable(name):
		return nil, bad("name", "must not contain control characters")
	case len(badges) > MaxBadges:
		return nil, bad("badges", fmt.Sprintf("at most %d badges", MaxBadges))
	case len(departments) > MaxDepts:
		return nil, bad("departments", fmt.Sprintf("at most %d departments", MaxDepts))
	}
	out := slices.Clone(badges)
	seen := map[string]bool{}
	for k, b := range out {
		n, err := NormalizeBadge(b)
		if err != nil {
			return nil, bad(fmt.Sprintf("badges[%d]", k), err.Error())
		}
		if seen[n] {
			return nil, bad(fmt.Sprintf("badges[%d]", k), "listed twice")
		}
		seen[n] = true
		out[k] = n
	}
	depts := map[string]bool{}
	for k, d := range departments {
		if strings.TrimSpace(d) == "" || len([]rune(d)) > MaxDeptLen || !Printable(d) {
			return nil, bad(fmt.Sprintf("departments[%d]", k), fmt.Sprintf("must be 1 to %d printable characters", MaxDeptLen))
		}
		if depts[d] {
			return nil, bad(fmt.Sprintf("departments[%d]", k), fmt.Sprintf("%q listed twice", d))
		}
		depts[d] = true
	}
	return out, nil
}
