package notify

import (
	"errors"
	"testing"
)

func TestParseUSMobile(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want PhoneNumber
		err  error
	}{
		{"(415) 555-2671", "+14155552671", nil},
		{"415.555.2671", "+14155552671", nil},
		{"4155552671", "+14155552671", nil},
		{"1 415 555 2671", "+14155552671", nil},
		{"+1 415-555-2671", "+14155552671", nil},
		{"+1 (787) 555-2671", "+17875552671", nil}, // Puerto Rico is US
		{"", "", ErrPhoneEmpty},
		{"   ", "", ErrPhoneEmpty},
		{"+44 20 7946 0958", "", ErrNotUS},
		{"0044 20 7946 0958", "", ErrNotUS},
		{"+33 1 23 45 67 89", "", ErrNotUS},
		{"+1 416 555 2671", "", ErrNotUS}, // Toronto
		{"(604) 555-2671", "", ErrNotUS},  // Vancouver
		{"+1 876 555 2671", "", ErrNotUS}, // Jamaica
		{"555-2671", "", ErrPhoneMalformed},
		{"415-555-267", "", ErrPhoneMalformed},
		{"415-555-26712", "", ErrPhoneMalformed},
		{"(115) 555-2671", "", ErrPhoneMalformed},
		{"(415) 155-2671", "", ErrPhoneMalformed},
		{"(911) 555-2671", "", ErrPhoneMalformed},
		{"call me maybe", "", ErrPhoneMalformed},
		{"415-555-2671 ext 3", "", ErrPhoneMalformed},
	} {
		got, err := ParseUSMobile(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ParseUSMobile(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestPhoneNumberString(t *testing.T) {
	if s := PhoneNumber("+14155552671").String(); s != "(415) 555-2671" {
		t.Fatalf("String = %q", s)
	}
}

func TestNotUSWording(t *testing.T) {
	if got := ErrNotUS.Error(); got[:15] != "SMS in USA only" {
		t.Fatalf("message %q does not lead with the seed's words", got)
	}
}

func FuzzParseUSMobile(f *testing.F) {
	for _, s := range []string{"(415) 555-2671", "+44 20 7946 0958", "", "+", "00", "011 1 415 555 2671"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseUSMobile(s)
		if err != nil {
			return
		}
		if len(n) != 12 || n[:2] != "+1" {
			t.Fatalf("ParseUSMobile(%q) = %q", s, n)
		}
		if again, err := ParseUSMobile(string(n)); err != nil || again != n {
			t.Fatalf("E.164 form %q does not parse back: %v", n, err)
		}
	})
}
