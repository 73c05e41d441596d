package mobile

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestRotatesTuesdayMidnightLocal(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	mon := time.Date(2026, 11, 23, 23, 59, 0, 0, ny) // Monday 23:59
	tue := time.Date(2026, 11, 24, 0, 0, 0, 0, ny)   // Tuesday 00:00
	c1, ch1 := currentSetupCode(secret, "100200", ny, mon)
	c2, ch2 := currentSetupCode(secret, "100200", ny, tue)
	if c1 == c2 {
		t.Fatalf("code did not change at Tuesday 00:00: %s", c1)
	}
	if !ch1.Equal(tue) {
		t.Errorf("Monday's code changes at %v, want %v", ch1, tue)
	}
	if want := time.Date(2026, 12, 1, 0, 0, 0, 0, ny); !ch2.Equal(want) {
		t.Errorf("Tuesday's code changes at %v, want %v", ch2, want)
	}
	// The same instant in UTC is Tuesday 05:00 there: the company's zone rules.
	if c, _ := currentSetupCode(secret, "100200", time.UTC, mon); c == c1 {
		t.Error("code ignored the company's timezone")
	}
	// Old code refused once the new one applies; both valid in their week.
	if err := checkSetupCode(secret, "100200", ny, mon, c1); err != nil {
		t.Errorf("Monday's code refused on Monday: %v", err)
	}
	if err := checkSetupCode(secret, "100200", ny, tue, c1); !errors.Is(err, errBadSetupCode) {
		t.Errorf("last week's code accepted on Tuesday: %v", err)
	}
	if err := checkSetupCode(secret, "100200", ny, tue, strings.ToLower(c2[:4])+"-"+c2[4:]); err != nil {
		t.Errorf("typed with dash and lower case refused: %v", err)
	}
}

func TestWeeksAcrossDST(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	for _, tc := range []struct {
		name  string
		at    time.Time
		hours float64
	}{
		// DST starts Sun 8 Mar 2026: the week from Tue 3 Mar is an hour short.
		{"spring forward", time.Date(2026, 3, 9, 12, 0, 0, 0, ny), 167},
		// DST ends Sun 1 Nov 2026: the week from Tue 27 Oct is an hour long.
		{"fall back", time.Date(2026, 11, 2, 12, 0, 0, 0, ny), 169},
		{"plain", time.Date(2026, 6, 10, 12, 0, 0, 0, ny), 168},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := weekOf(tc.at, ny)
			if w.Start.In(ny).Weekday() != time.Tuesday || w.Start.In(ny).Hour() != 0 || w.End.In(ny).Hour() != 0 {
				t.Fatalf("week %v - %v does not run Tuesday 00:00 to Tuesday 00:00 local", w.Start, w.End)
			}
			if got := w.End.Sub(w.Start).Hours(); got != tc.hours {
				t.Fatalf("week is %v hours, want %v", got, tc.hours)
			}
		})
	}
	// Monday 23:59 -> Tuesday 00:00 right after the spring-forward week.
	mon := time.Date(2026, 3, 9, 23, 59, 0, 0, ny)
	tue := time.Date(2026, 3, 10, 0, 0, 0, 0, ny)
	a, _ := currentSetupCode(secret, "1", ny, mon)
	b, _ := currentSetupCode(secret, "1", ny, tue)
	if a == b {
		t.Fatal("code did not change on the Tuesday after DST started")
	}
}

func TestMidnightThatDoesNotExist(t *testing.T) {
	// Zones whose DST changes happen at midnight (local midnight is skipped
	// or repeated): every instant must still fall in its own week.
	for _, name := range []string{"America/Santiago", "America/Havana", "Asia/Beirut"} {
		loc := mustLoad(t, name)
		for d := 0; d < 400; d++ {
			at := time.Date(2026, 1, 1, 0, 30, 0, 0, loc).AddDate(0, 0, d)
			w := weekOf(at, loc)
			if at.Before(w.Start) || !at.Before(w.End) {
				t.Fatalf("%s: %v not in its week %v - %v", name, at, w.Start, w.End)
			}
		}
	}
}

func TestCodeShape(t *testing.T) {
	seen := map[string]bool{}
	for i := range 200 {
		w := weekOf(time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*i), time.UTC)
		c := weekCode(secret, "42", w)
		if len(c) != SetupCodeLength || strings.Trim(c, alphabet) != "" {
			t.Fatalf("code %q not %d characters of the alphabet", c, SetupCodeLength)
		}
		seen[c] = true
	}
	if len(seen) < 199 {
		t.Fatalf("only %d distinct codes over 200 weeks", len(seen))
	}
	if weekCode(secret, "42", weekOf(time.Now(), time.UTC)) == weekCode([]byte("other secret"), "42", weekOf(time.Now(), time.UTC)) {
		t.Fatal("code does not depend on the secret")
	}
}
