package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func validRoster() Roster {
	return Roster{Version: 3, Full: true, Salt: bytes.Repeat([]byte{7}, 16), Employees: []RosterEmployee{
		{ID: "E100", Name: "Ada Lovelace", Badges: []string{"10001"}, PINHash: bytes.Repeat([]byte{1}, 32), Active: true},
		{ID: "E101", Name: "Grace Hopper", Badges: []string{"10002"}, Active: true},
	}}
}

func TestDecodeRoster(t *testing.T) {
	b, _ := json.Marshal(validRoster())
	r, err := DecodeRoster(b)
	if err != nil || r.Version != 3 || len(r.Employees) != 2 || len(r.Employees[0].PINHash) != 32 {
		t.Fatalf("round trip: %+v %v", r, err)
	}
	if !strings.Contains(string(b), `"salt":"BwcHBwcHBwcHBwcHBwcHBw=="`) {
		t.Errorf("salt is not base64 in JSON: %s", b)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Roster)
		want string
	}{
		{"version 0", func(r *Roster) { r.Version = 0 }, "version"},
		{"short salt", func(r *Roster) { r.Salt = r.Salt[:8] }, "salt"},
		{"full with base", func(r *Roster) { r.BaseVersion = 1 }, "full"},
		{"full with removed", func(r *Roster) { r.Removed = []string{"E9"} }, "full"},
		{"delta base not below", func(r *Roster) { r.Full = false; r.BaseVersion = 3 }, "base_version"},
		{"duplicate id", func(r *Roster) { r.Employees[1].ID = "E100" }, "twice"},
		{"empty id", func(r *Roster) { r.Employees[1].ID = "" }, "id"},
		{"long id", func(r *Roster) { r.Employees[1].ID = strings.Repeat("x", 33) }, "id"},
		{"short pin hash", func(r *Roster) { r.Employees[0].PINHash = []byte{1, 2} }, "pin_hash"},
		{"removed and listed", func(r *Roster) { r.Full = false; r.BaseVersion = 2; r.Removed = []string{"E101"} }, "also in employees"},
		{"removed empty", func(r *Roster) { r.Full = false; r.BaseVersion = 2; r.Removed = []string{""} }, "removed[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := validRoster()
			tc.mod(&r)
			b, _ := json.Marshal(r)
			_, err := DecodeRoster(b)
			if !errors.Is(err, ErrPayload) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrPayload mentioning %q", err, tc.want)
			}
		})
	}
	delta := Roster{Version: 4, BaseVersion: 3, Salt: bytes.Repeat([]byte{7}, 16), Removed: []string{"E104"}}
	b, _ = json.Marshal(delta)
	if _, err := DecodeRoster(b); err != nil {
		t.Fatalf("delta: %v", err)
	}
	if _, err := DecodeRoster([]byte(`{"version":1,"salt":"not base64!"}`)); !errors.Is(err, ErrPayload) {
		t.Fatalf("bad base64: %v", err)
	}
}

func FuzzDecodeRoster(f *testing.F) {
	b, _ := json.Marshal(validRoster())
	f.Add(b)
	f.Add([]byte(`{"version":2,"base_version":1,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","employees":[],"removed":["E1"]}`))
	f.Add([]byte(`{"version":1,"full":true,"salt":"","employees":null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRoster(b)
		if err != nil {
			if !errors.Is(err, ErrPayload) {
				t.Fatalf("error not ErrPayload: %v", err)
			}
			return
		}
		if r.Validate() != nil {
			t.Fatal("accepted an invalid roster")
		}
		// What was accepted survives a round trip unchanged.
		again, _ := json.Marshal(r)
		r2, err := DecodeRoster(again)
		if err != nil || r2.Version != r.Version || len(r2.Employees) != len(r.Employees) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
