package mobile

// The company's weekly setup code: usable by many employees at once, valid
// for a week, changing every Tuesday at 00:00 in the company's timezone. It
// is computed from a per-company secret and the week, so nothing is stored
// and every cloud instance agrees.

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strings"
	"time"
)

// SetupCodeLength is the number of characters in a code.
const SetupCodeLength = 8

// alphabet has no 0/O, 1/I/L or U: codes are read aloud and typed on phones.
const alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

// week is one code's validity: from Start (a Tuesday 00:00 local) until End
// (the next Tuesday 00:00 local, exclusive).
type week struct {
	Start, End time.Time
}

// weekOf returns the week containing t in loc. Weeks start on Tuesday at
// midnight local time; across a DST change a week is 167 or 169 hours long.
func weekOf(t time.Time, loc *time.Location) week {
	l := t.In(loc)
	back := (int(l.Weekday()) - int(time.Tuesday) + 7) % 7
	start := time.Date(l.Year(), l.Month(), l.Day()-back, 0, 0, 0, 0, loc)
	if start.After(t) {
		// Only when midnight does not exist (a DST jump at 00:00): time.Date
		// then normalises forward; the week still starts before t.
		start = time.Date(l.Year(), l.Month(), l.Day()-back-7, 0, 0, 0, 0, loc)
	}
	end := time.Date(start.Year(), start.Month(), start.Day()+7, 0, 0, 0, 0, loc)
	return week{Start: start, End: end}
}

// weekCode derives the code for a company's week from its secret.
func weekCode(secret []byte, companyID string, w week) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("timeclock setup code\x00"))
	m.Write([]byte(companyID))
	m.Write([]byte{0})
	m.Write([]byte(w.Start.Format("2006-01-02")))
	sum := m.Sum(nil)
	var sb strings.Builder
	for i := range SetupCodeLength {
		// 2 bytes per character keeps the modulo bias below 0.05%.
		v := int(sum[2*i])<<8 | int(sum[2*i+1])
		sb.WriteByte(alphabet[v%len(alphabet)])
	}
	return sb.String()
}

// currentSetupCode returns the code valid at now and when it changes.
func currentSetupCode(secret []byte, companyID string, loc *time.Location, now time.Time) (code string, changes time.Time) {
	w := weekOf(now, loc)
	return weekCode(secret, companyID, w), w.End
}

// errBadSetupCode is returned for a code that is not this week's.
var errBadSetupCode = errors.New("setup code is not valid (codes change every Tuesday)")

// checkSetupCode accepts only the code valid at now. Spaces, dashes and case are
// forgiven, as people type them.
func checkSetupCode(secret []byte, companyID string, loc *time.Location, now time.Time, typed string) error {
	norm := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(typed)))
	want, _ := currentSetupCode(secret, companyID, loc, now)
	if len(norm) != len(want) || subtle.ConstantTimeCompare([]byte(norm), []byte(want)) != 1 {
		return errBadSetupCode
	}
	return nil
}
