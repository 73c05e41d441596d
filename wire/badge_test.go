package wire

import (
	"strings"
	"testing"
)

func TestNormalizeBadge(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"10001", "10001", ""},
		{"0042", "42", ""},
		{"000", "0", ""},
		{"12:34567", "12:34567", ""},
		{"012:034567", "12:34567", ""},
		{"0:5", "0:5", ""},
		{"4294967295:1", "4294967295:1", ""},
		{"em:62e3086ced", "em:62E3086CED", ""},
		{"EM:62E3086CED", "em:62E3086CED", ""},
		{"", "", "1 to 20 digits"},
		{"12a", "", "digits only"},
		{"4294967296:1", "", "at most 4294967295"},
		{":5", "", "facility code must be digits"},
		{"12:", "", "card number after the facility code"},
		{"1:2:3", "", "card number after the facility code"},
		{"em:62E3086C", "", "10 hex digits"},
		{"em:62E3086CEG", "", "10 hex digits"},
		{"em:+2E3086CED", "", "10 hex digits"},
	} {
		got, err := NormalizeBadge(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("NormalizeBadge(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseBadgeEMCard(t *testing.T) {
	// 0xE3086CED is the printed serial 3808980205.
	b, err := ParseBadge("em:62E3086CED")
	if err != nil || b.Card != "3808980205" || !b.Qualified() || b.HasFacility {
		t.Fatalf("ParseBadge = %+v, %v", b, err)
	}
}

func TestBadgeIndex(t *testing.T) {
	type add struct{ emp, badge string }
	for _, tc := range []struct {
		name string
		adds []add
		want string // the last Add's error, "" for none
	}{
		{"old roster", []add{{"E1", "10001"}, {"E2", "10002"}}, ""},
		{"same badge", []add{{"E1", "10001"}, {"E2", "10001"}}, "badge 10001 of E2 already belongs to E1"},
		{"same facility badge", []add{{"E1", "12:34567"}, {"E2", "12:34567"}}, "badge 12:34567 of E2 already belongs to E1"},
		{"two facility codes are two cards", []add{{"E1", "12:34567"}, {"E2", "13:34567"}}, ""},
		{"card alone after a facility badge", []add{{"E1", "12:34567"}, {"E2", "34567"}},
			"badge 34567 of E2 collides with badge 12:34567 of E1: a card number without a facility code matches E1's card too; write E2's badge with its facility code"},
		{"facility badge after the card alone", []add{{"E1", "34567"}, {"E2", "12:34567"}},
			"badge 12:34567 of E2 collides with badge 34567 of E1: a card number without a facility code matches E2's card too; write E1's badge with its facility code"},
		{"one employee, both forms", []add{{"E1", "34567"}, {"E1", "12:34567"}, {"E2", "13:4"}}, ""},
		{"one employee's both forms, another's facility badge", []add{{"E1", "34567"}, {"E1", "12:34567"}, {"E2", "13:34567"}}, "collides with badge 34567 of E1"},
		{"EM whole IDs differing in the version byte", []add{{"E1", "em:62E3086CED"}, {"E2", "em:63E3086CED"}}, ""},
		{"printed serial against an EM whole ID", []add{{"E1", "em:62E3086CED"}, {"E2", "3808980205"}}, "collides with badge em:62E3086CED of E1"},
		{"EM whole ID against a printed serial", []add{{"E2", "3808980205"}, {"E1", "em:62E3086CED"}}, "collides with badge 3808980205 of E2"},
		{"own printed serial and whole ID", []add{{"E1", "3808980205"}, {"E1", "em:62E3086CED"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var x BadgeIndex
			var err *BadgeCollision
			for i, a := range tc.adds {
				err = x.Add(a.emp, a.badge)
				if err != nil && i < len(tc.adds)-1 {
					t.Fatalf("Add(%q, %q) = %v", a.emp, a.badge, err)
				}
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Add = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Add = %v, want %q", err, tc.want)
			}
		})
	}
}
