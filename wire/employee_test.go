package wire

import (
	"strings"
	"testing"
)

func TestCheckEmployee(t *testing.T) {
	badges, err := CheckEmployee("E1", "Ada", []string{"0042", "7", "012:34567", "em:62e3086ced"}, []string{"Assembly"})
	if err != nil || strings.Join(badges, ",") != "42,7,12:34567,em:62E3086CED" {
		t.Fatalf("CheckEmployee = %v, %v", badges, err)
	}
	for _, tc := range []struct {
		id, name     string
		badges, dept []string
		field        string
	}{
		{"", "Ada", nil, nil, "id"},
		{"E 1", "Ada", nil, nil, "id"},
		{"E1", " ", nil, nil, "name"},
		{"E1", "A\x00da", nil, nil, "name"},
		{"E1", "Ada", []string{"12a"}, nil, "badges[0]"},
		{"E1", "Ada", []string{"012", "12"}, nil, "badges[1]"},
		{"E1", "Ada", []string{"12:34567", "012:034567"}, nil, "badges[1]"},
		{"E1", "Ada", []string{"em:62E3086CED", "em:62e3086ced"}, nil, "badges[1]"},
		{"E1", "Ada", []string{"1:2:3"}, nil, "badges[0]"},
		{"E1", "Ada", nil, []string{"A", "A"}, "departments[1]"},
		{"E1", "Ada", make([]string, MaxBadges+1), nil, "badges"},
	} {
		if _, err := CheckEmployee(tc.id, tc.name, tc.badges, tc.dept); err == nil || err.Field != tc.field {
			t.Errorf("CheckEmployee(%q, %q, %q, %q) = %v, want a %s error", tc.id, tc.name, tc.badges, tc.dept, err, tc.field)
		}
	}
	if !ValidPIN("1234") || ValidPIN("123") || ValidPIN("12345678a") {
		t.Error("ValidPIN")
	}
}

func FuzzNormalizeBadge(f *testing.F) {
	for _, s := range []string{"0", "000", "0042", "99999999999999999999", "", "1a", "012:0034", "em:62e3086ced", "4294967296:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeBadge(s)
		if err != nil {
			return
		}
		if again, err := NormalizeBadge(n); err != nil || again != n {
			t.Fatalf("NormalizeBadge(%q) = %q is not a fixed point", s, n)
		}
	})
}
