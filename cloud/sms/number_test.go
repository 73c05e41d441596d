package sms

import (
	"errors"
	"testing"
)

func TestParseUS(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Number
		err  error
	}{
		{"(415) 555-2671", "+14155552671", nil},
		{"415.555.2671", "+14155552671", nil},
		{"4155552671", "+14155552671", nil},
		{"1 415 555 2671", "+14155552671", nil},
		{"+1 415-555-2671", "+14155552671", nil},
		{"+1 (787) 555-2671", "+17875552671", nil}, // Puerto Rico is US
		{"", "", ErrEmpty},
		{"   ", "", ErrEmpty},
		{"+44 20 7946 0958", "", ErrNotUS},
		{"0044 20 7946 0958", "", ErrNotUS},
		{"+33 1 23 45 67 89", "", ErrNotUS},
		{"+1 416 555 2671", "", ErrNotUS}, // Toronto
		{"(604) 555-2671", "", ErrNotUS},  // Vancouver
		{"+1 876 555 2671", "", ErrNotUS}, // Jamaica
		{"555-2671", "", ErrMalformed},
		{"415-555-267", "", ErrMalformed},
		{"415-555-26712", "", ErrMalformed},
		{"(115) 555-2671", "", ErrMalformed},
		{"(415) 155-2671", "", ErrMalformed},
		{"(911) 555-2671", "", ErrMalformed},
		{"call me maybe", "", ErrMalformed},
		{"415-555-2671 ext 3", "", ErrMalformed},
	} {
		got, err := ParseUS(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ParseUS(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestNumberString(t *testing.T) {
	if s := Number("+14155552671").String(); s != "(415) 555-2671" {
		t.Fatalf("String = %q", s)
	}
}

func TestNotUSWording(t *testing.T) {
	if got := ErrNotUS.Error(); got[:15] != "SMS in USA only" {
		t.Fatalf("message %q does not lead with the seed's words", got)
	}
}

func FuzzParseUS(f *testing.F) {
	for _, s := range []string{"(415) 555-2671", "+44 20 7946 0958", "", "+", "00", "011 1 415 555 2671"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseUS(s)
		if err != nil {
			return
		}
		if len(n) != 12 || n[:2] != "+1" {
			t.Fatalf("ParseUS(%q) = %q", s, n)
		}
		if again, err := ParseUS(string(n)); err != nil || again != n {
			t.Fatalf("E.164 form %q does not parse back: %v", n, err)
		}
	})
}
