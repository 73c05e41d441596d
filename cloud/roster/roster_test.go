package roster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	agentroster "timeclock/agent/roster" // test only: the clock's own rules are the contract
	"timeclock/cloud/roster"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/wire"
)

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func pin(s string) *string { return &s }
func no() *bool            { f := false; return &f }

func open(t *testing.T) store.Store {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func demo() []roster.Employee {
	return []roster.Employee{
		{ID: "E100", Name: "Ada Lovelace", Badges: []string{"10001"}, PIN: pin("1234"), Departments: []string{"Assembly", "Shipping", "Office"}},
		{ID: "E101", Name: "Grace Hopper", Badges: []string{"10002"}, PIN: pin("2345"), Departments: []string{"Assembly"}},
		{ID: "E102", Name: "Alan Turing", Badges: []string{"010003"}, PIN: pin("3456")},
		{ID: "E104", Name: "Hedy Lamarr", Badges: []string{"10005"}, PIN: pin("5678"), Active: no()},
	}
}

func update(t *testing.T, st store.Store, ch roster.Change) roster.Result {
	t.Helper()
	res, err := roster.Update(context.Background(), st, "1", ch, "admin@x", t0)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func payload(t *testing.T, st store.Store, base uint64, full bool) wire.Roster {
	t.Helper()
	var r wire.Roster
	err := st.View(context.Background(), func(tx store.Tx) (err error) {
		r, err = roster.Payload(tx, "1", base, full)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON and the clock's decoder, as it travels.
	b, _ := json.Marshal(r)
	got, err := wire.DecodeRoster(b)
	if err != nil {
		t.Fatalf("the clock's decoder refuses the cloud's roster: %v", err)
	}
	return got
}

// applyLikeClock is how a clock applies a roster command (docs/protocol.md):
// a full roster becomes the roster; a delta needs the clock's roster to be
// exactly its base version with the same salt, replaces or adds the listed
// employees and drops the removed IDs; then agent/roster.New checks it all
// and Keeper.Replace stores it.
func applyLikeClock(cur *agentroster.Roster, r wire.Roster) (*agentroster.Roster, error) {
	conv := func(e wire.RosterEmployee) agentroster.Employee {
		return agentroster.Employee{ID: e.ID, Name: e.Name, Badges: e.Badges, PINHash: e.PINHash, Departments: e.Departments, Active: e.Active}
	}
	if r.Full {
		emps := make([]agentroster.Employee, len(r.Employees))
		for i, e := range r.Employees {
			emps[i] = conv(e)
		}
		return agentroster.New(r.Version, r.Salt, emps)
	}
	if cur == nil || cur.Version() != r.BaseVersion || !bytes.Equal(cur.Salt(), r.Salt) {
		return nil, errors.New("roster: delta does not apply to this clock's roster")
	}
	byID := map[string]agentroster.Employee{}
	for _, e := range cur.Employees() {
		byID[e.ID] = e
	}
	for _, id := range r.Removed {
		delete(byID, id)
	}
	for _, e := range r.Employees {
		byID[e.ID] = conv(e)
	}
	emps := make([]agentroster.Employee, 0, len(byID))
	for _, e := range byID {
		emps = append(emps, e)
	}
	return agentroster.New(r.Version, r.Salt, emps)
}

func TestFullAndDeltaReachTheClock(t *testing.T) {
	st := open(t)
	res := update(t, st, roster.Change{Full: true, Upsert: demo()})
	if res.Version != 1 || res.Employees != 4 || res.Changed != 4 {
		t.Fatalf("first update %+v", res)
	}
	full := payload(t, st, 0, true)
	clock, err := applyLikeClock(nil, full)
	if err != nil {
		t.Fatalf("the clock refuses the full roster: %v", err)
	}
	if e, ok := clock.ByPIN("1234"); !ok || e.ID != "E100" {
		t.Fatalf("PIN 1234 on the clock: %+v %v", e, ok)
	}
	if e, ok := clock.ByBadge("10003"); !ok || e.ID != "E102" {
		t.Fatalf("badge 10003 (sent as 010003): %+v %v", e, ok)
	}
	if e, _ := clock.ByID("E104"); e.Active {
		t.Error("Hedy should be inactive")
	}
	if b, _ := json.Marshal(full); bytes.Contains(b, []byte(`"1234"`)) || bytes.Contains(b, []byte(`"pin"`)) {
		t.Fatalf("a PIN travels in clear: %s", b)
	}

	// Grace's PIN changes, Alan leaves, Katherine joins, Ada is untouched.
	res = update(t, st, roster.Change{
		Upsert: []roster.Employee{
			{ID: "E101", Name: "Grace Hopper", Badges: []string{"10002"}, PIN: pin("9999"), Departments: []string{"Assembly"}},
			{ID: "E103", Name: "Katherine Johnson", Badges: []string{"10004", "20004"}, PIN: pin("4567"), Departments: []string{"Shipping"}},
		},
		Remove: []string{"E102"},
	})
	if res.Version != 2 || res.Changed != 2 || res.Removed != 1 || res.Employees != 4 {
		t.Fatalf("delta update %+v", res)
	}
	delta := payload(t, st, 1, false)
	if delta.Full || delta.BaseVersion != 1 || len(delta.Employees) != 2 || !slices.Equal(delta.Removed, []string{"E102"}) {
		t.Fatalf("delta %+v", delta)
	}
	clock, err = applyLikeClock(clock, delta)
	if err != nil {
		t.Fatalf("the clock refuses the delta: %v", err)
	}
	for pin, want := range map[string]string{"1234": "E100", "9999": "E101", "4567": "E103"} {
		if e, ok := clock.ByPIN(pin); !ok || e.ID != want {
			t.Errorf("PIN %s after the delta: %+v %v", pin, e, ok)
		}
	}
	if _, ok := clock.ByPIN("2345"); ok {
		t.Error("Grace's old PIN still works")
	}
	if _, ok := clock.ByID("E102"); ok {
		t.Error("Alan is still on the clock")
	}
	// The delta applied equals the full roster of version 2.
	want, _ := applyLikeClock(nil, payload(t, st, 0, true))
	if !slices.EqualFunc(clock.Employees(), want.Employees(), func(a, b agentroster.Employee) bool {
		return fmt.Sprint(a) == fmt.Sprint(b)
	}) || clock.Version() != 2 {
		t.Error("delta-applied roster differs from the full roster")
	}
	// A clock at another version cannot take the delta; a base at or past
	// the roster's version gets a full one.
	if _, err := applyLikeClock(want, delta); err == nil {
		t.Error("a delta from 1 applied to a clock at 2")
	}
	if p := payload(t, st, 5, false); !p.Full {
		t.Error("a clock ahead of the cloud got a delta")
	}

	// PUT of the same roster changes nothing, PIN omitted keeps it.
	same := []roster.Employee{
		{ID: "E100", Name: "Ada Lovelace", Badges: []string{"10001"}, Departments: []string{"Assembly", "Shipping", "Office"}},
		{ID: "E101", Name: "Grace Hopper", Badges: []string{"10002"}, Departments: []string{"Assembly"}},
		{ID: "E103", Name: "Katherine Johnson", Badges: []string{"10004", "20004"}, Departments: []string{"Shipping"}},
		{ID: "E104", Name: "Hedy Lamarr", Badges: []string{"10005"}, PIN: pin("5678"), Active: no()},
	}
	if res := update(t, st, roster.Change{Full: true, Upsert: same}); res.Version != 2 || res.Changed != 0 || res.Removed != 0 {
		t.Fatalf("an unchanged PUT: %+v", res)
	}
	// A full replace without Hedy removes her; "" removes Ada's PIN.
	same[0].PIN = pin("")
	res = update(t, st, roster.Change{Full: true, Upsert: same[:3]})
	if res.Version != 3 || res.Removed != 1 || res.Changed != 1 {
		t.Fatalf("PUT without Hedy: %+v", res)
	}
	d3 := payload(t, st, 2, false)
	if len(d3.Employees) != 1 || d3.Employees[0].ID != "E100" || d3.Employees[0].PINHash != nil || !slices.Equal(d3.Removed, []string{"E104"}) {
		t.Fatalf("delta 2->3 %+v", d3)
	}
	v, err := roster.Get(context.Background(), st, "1")
	if err != nil || v.Version != 3 || len(v.Employees) != 3 || v.Employees[0].HasPIN || !v.Employees[1].HasPIN || v.UpdatedBy != "admin@x" {
		t.Fatalf("view %+v %v", v, err)
	}
}

func TestBadChangesAreRefusedWhole(t *testing.T) {
	st := open(t)
	update(t, st, roster.Change{Full: true, Upsert: demo()})
	for _, tc := range []struct {
		name string
		ch   roster.Change
		want string
	}{
		{"no badge no pin", roster.Change{Upsert: []roster.Employee{{ID: "E9", Name: "Nobody"}}}, "upsert[0].badges: an employee needs a badge or a PIN"},
		{"short pin", roster.Change{Upsert: []roster.Employee{{ID: "E9", Name: "X", PIN: pin("12")}}}, "upsert[0].pin: must be 4 to 8 digits"},
		{"badge letters", roster.Change{Upsert: []roster.Employee{{ID: "E9", Name: "X", Badges: []string{"12a"}}}}, "upsert[0].badges[0]: must be digits only"},
		{"badge taken", roster.Change{Upsert: []roster.Employee{{ID: "E9", Name: "X", Badges: []string{"0010001"}}}}, "upsert[0].badges[0]: badge 10001 of E9 already belongs to E100"},
		{"facility badge against a card number alone", roster.Change{Upsert: []roster.Employee{{ID: "E9", Name: "X", Badges: []string{"12:10001"}}}},
			"upsert[0].badges[0]: badge 12:10001 of E9 collides with badge 10001 of E100: a card number without a facility code matches E9's card too; write E100's badge with its facility code"},
		{"card number alone against a facility badge", roster.Change{Upsert: []roster.Employee{
			{ID: "E8", Name: "X", Badges: []string{"7:34567"}}, {ID: "E9", Name: "Y", Badges: []string{"034567"}}}},
			"upsert[1].badges[0]: badge 34567 of E9 collides with badge 7:34567 of E8: a card number without a facility code matches E8's card too; write E9's badge with its facility code"},
		{"same facility badge", roster.Change{Upsert: []roster.Employee{
			{ID: "E8", Name: "X", Badges: []string{"7:34567"}}, {ID: "E9", Name: "Y", Badges: []string{"007:034567"}}}},
			"upsert[1].badges[0]: badge 7:34567 of E9 already belongs to E8"},
		{"bad facility code", roster.Change{Upsert: []roster.Employee{{ID: "E9", Name: "X", Badges: []string{"x:1"}}}}, "upsert[0].badges[0]: facility code must be digits"},
		{"bad EM4100 ID", roster.Change{Upsert: []roster.Employee{{ID: "E9", Name: "X", Badges: []string{"em:123"}}}}, "upsert[0].badges[0]: an EM4100 ID is em: and 10 hex digits"},
		{"pin taken", roster.Change{Upsert: []roster.Employee{{ID: "E9", Name: "X", PIN: pin("1234")}}}, "PINs must be unique"},
		{"space in id", roster.Change{Upsert: []roster.Employee{{ID: "E 9", Name: "X", Badges: []string{"9"}}}}, "upsert[0].id"},
		{"blank name", roster.Change{Upsert: []roster.Employee{{ID: "E9", Name: "  ", Badges: []string{"9"}}}}, "upsert[0].name"},
		{"dup dept", roster.Change{Upsert: []roster.Employee{{ID: "E9", Name: "X", Badges: []string{"9"}, Departments: []string{"A", "A"}}}}, "departments[1]"},
		{"dup id", roster.Change{Upsert: []roster.Employee{{ID: "E9", Name: "X", Badges: []string{"9"}}, {ID: "E9", Name: "Y", Badges: []string{"8"}}}}, "upsert[1].id"},
		{"remove and upsert", roster.Change{Upsert: []roster.Employee{{ID: "E9", Name: "X", Badges: []string{"9"}}}, Remove: []string{"E9"}}, "remove[0]"},
		{"full: name", roster.Change{Full: true, Upsert: []roster.Employee{{ID: "E9", Name: "", Badges: []string{"9"}}}}, "employees[0].name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := roster.Update(context.Background(), st, "1", tc.ch, "a", t0)
			var re *roster.Error
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a roster error with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "1234") {
				t.Fatal("the error shows a PIN")
			}
		})
	}
	if v, _ := roster.Get(context.Background(), st, "1"); v.Version != 1 || len(v.Employees) != 4 {
		t.Fatalf("a refused change changed the roster: %+v", v)
	}
}

func TestTooLargeToPush(t *testing.T) {
	st := open(t)
	var emps []roster.Employee
	for i := range 9000 {
		emps = append(emps, roster.Employee{ID: fmt.Sprintf("E%06d", i), Name: strings.Repeat("n", 60), Badges: []string{fmt.Sprint(100000 + i)},
			Departments: []string{"Assembly", "Shipping"}})
	}
	_, err := roster.Update(context.Background(), st, "1", roster.Change{Full: true, Upsert: emps}, "a", t0)
	if err == nil || !strings.Contains(err.Error(), "more than a clock takes") {
		t.Fatalf("err = %v", err)
	}
	if v, _ := roster.Get(context.Background(), st, "1"); v.Version != 0 {
		t.Fatalf("the too-large roster was stored: version %d", v.Version)
	}
}

// TestFacilityCodesReachTheClock: badges with facility codes and EM4100
// whole IDs are stored normalized, pushed as strings, and match on the
// clock by the clock's rule.
func TestFacilityCodesReachTheClock(t *testing.T) {
	st := open(t)
	update(t, st, roster.Change{Full: true, Upsert: []roster.Employee{
		{ID: "E1", Name: "Site Twelve", Badges: []string{"012:034567"}},
		{ID: "E2", Name: "Site Thirteen", Badges: []string{"13:34567"}},
		{ID: "E3", Name: "EM Tag", Badges: []string{"em:62e3086ced"}},
		{ID: "E4", Name: "Any Site", Badges: []string{"20001"}},
	}})
	v, err := roster.Get(context.Background(), st, "1")
	if err != nil || len(v.Employees) != 4 || v.Employees[0].Badges[0] != "12:34567" || v.Employees[2].Badges[0] != "em:62E3086CED" {
		t.Fatalf("view %+v %v", v, err)
	}
	clock, err := applyLikeClock(nil, payload(t, st, 0, true))
	if err != nil {
		t.Fatalf("the clock refuses the roster: %v", err)
	}
	for key, want := range map[string]string{
		"12:34567": "E1", "13:34567": "E2", "14:34567": "", "34567": "",
		"em:62E3086CED": "E3", "em:63E3086CED": "", "5:20001": "E4", "20001": "E4",
	} {
		if e, _ := clock.ByBadge(key); e.ID != want {
			t.Errorf("badge %s on the clock: %q, want %q", key, e.ID, want)
		}
	}
}
