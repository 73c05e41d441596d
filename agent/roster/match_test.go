package roster

import (
	"os"
	"strings"
	"testing"
)

// TestMatch covers the badge rule on indexes built directly, so it also
// covers rosters New refuses (the ambiguous ones).
func TestMatch(t *testing.T) {
	wiegand := func(fc, card string) string { return fc + ":" + card }
	whole := func(n string) string { return n } // MIFARE, keyboard wedge, sim
	em := func(id string) string { return "em:" + id }
	for _, tc := range []struct {
		name   string
		roster [][]string // employee i's badges, normalized
		read   string     // the read's key
		want   int        // employee, -1 for none
		match  Match
	}{
		{"exact facility match", [][]string{{"10001"}, {"12:34567"}}, wiegand("12", "34567"), 1, Exact},
		{"facility code mismatch", [][]string{{"12:34567"}}, wiegand("13", "34567"), -1, Unknown},
		{"facility badge never matches a read without a facility code", [][]string{{"12:34567"}}, whole("34567"), -1, Unknown},
		{"facility 0 is a facility code", [][]string{{"0:34567"}}, wiegand("0", "34567"), 0, Exact},
		{"two sites, one card number each", [][]string{{"12:34567"}, {"13:34567"}}, wiegand("13", "34567"), 1, Exact},
		{"card number alone matches a Wiegand read", [][]string{{"10001"}, {"34567"}}, wiegand("12", "34567"), 1, ByCard},
		{"card number alone matches any facility code", [][]string{{"34567"}}, wiegand("200", "34567"), 0, ByCard},
		{"card number alone, leading zeros", [][]string{{"42"}}, wiegand("12", "0042"), 0, ByCard},
		{"card number alone refused: another employee has the card with a facility code",
			[][]string{{"34567"}, {"12:34567"}}, wiegand("13", "34567"), -1, Ambiguous},
		{"the facility badge still matches exactly beside it",
			[][]string{{"34567"}, {"12:34567"}}, wiegand("12", "34567"), 1, Exact},
		{"card number alone refused for a plain read too", [][]string{{"34567"}, {"12:34567"}}, whole("34567"), -1, Ambiguous},
		{"one employee with both forms", [][]string{{"34567", "12:34567"}}, wiegand("13", "34567"), 0, ByCard},
		{"EM4100 whole ID", [][]string{{"em:62E3086CED"}}, em("62E3086CED"), 0, Exact},
		{"EM4100 whole ID, lower case read", [][]string{{"em:62E3086CED"}}, em("62e3086ced"), 0, Exact},
		{"EM4100 other version byte", [][]string{{"em:62E3086CED"}}, em("63E3086CED"), -1, Unknown},
		{"EM4100 printed serial", [][]string{{"3808980205"}}, em("62E3086CED"), 0, ByCard},
		{"EM4100 printed serial, version byte 0", [][]string{{"12345"}}, em("0000003039"), 0, ByCard},
		{"EM4100 printed serial refused beside another's whole ID",
			[][]string{{"3808980205"}, {"em:62E3086CED"}}, em("63E3086CED"), -1, Ambiguous},
		{"MIFARE whole UID", [][]string{{"77771716"}}, whole("77771716"), 0, Exact},
		{"MIFARE UID is not a prefix match", [][]string{{"7777171"}}, whole("77771716"), -1, Unknown},
		{"old roster, old read", [][]string{{"10001"}, {"10002"}}, whole("10002"), 1, Exact},
		{"unknown", [][]string{{"10001"}}, whole("99"), -1, Unknown},
		{"garbage read", [][]string{{"10001"}}, "x", -1, Unknown},
		{"read with leading zeros", [][]string{{"12:42"}}, "012:0042", 0, Exact},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := badgeIndex{byBadge: map[string]int{}, byCard: map[string]int{}}
			for i, bs := range tc.roster {
				for _, b := range bs {
					x.add(i, b)
				}
			}
			got, m := x.match(tc.read)
			if m != tc.match || (m.Found() && got != tc.want) || (!m.Found() && tc.want != -1) {
				t.Fatalf("match(%q) = %d, %v; want %d, %v", tc.read, got, m, tc.want, tc.match)
			}
		})
	}
}

// TestFacilityRoster: a roster file with every badge form parses, and its
// lookups follow the rule; the old roster file parses as it did.
func TestFacilityRoster(t *testing.T) {
	data, err := os.ReadFile("testdata/facility.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseFile(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := r.ByID("E201")
	if strings.Join(e.Badges, ",") != "12:34567,em:62E3086CED" {
		t.Errorf("E201 badges = %q, want normalized", e.Badges)
	}
	for _, tc := range []struct {
		read string
		want string
	}{
		{"12:34567", "E201"},
		{"13:34567", ""},
		{"em:62E3086CED", "E201"},
		{"em:63E3086CED", ""},
		{"12:10001", "E200"},
		{"10001", "E200"},
		{"77771716", "E202"},
	} {
		e, m := r.MatchBadge(tc.read)
		if e.ID != tc.want || m.Found() != (tc.want != "") {
			t.Errorf("MatchBadge(%q) = %q %v, want %q", tc.read, e.ID, m, tc.want)
		}
	}
	old := parseGood(t)
	if e, _ := old.ByID("E101"); strings.Join(e.Badges, ",") != "10002,10012" {
		t.Errorf("old roster's badges = %q", e.Badges)
	}
}
