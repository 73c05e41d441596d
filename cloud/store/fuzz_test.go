package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"timeclock/wire"
)

// records are the types the store keeps as JSON, each as a new value.
var records = map[string]func() any{
	"company": func() any { return new(Company) }, "user": func() any { return new(User) },
	"session": func() any { return new(Session) }, "device": func() any { return new(Device) },
	"punch": func() any { return new(Punch) }, "command": func() any { return new(Command) },
	"roster": func() any { return new(Roster) }, "roster employee": func() any { return new(RosterEmployee) },
	"admin token": func() any { return new(AdminToken) }, "settings": func() any { return new(Settings) },
	"role": func() any { return new(Role) }, "login session": func() any { return new(LoginSession) },
	"mobile install": func() any { return new(MobileInstall) },
}

// FuzzRecords: any bytes under any of the store's keys decode to a record
// or fail with an error (DecodeRecord: the store then says "corrupt
// record"); never a panic. A record that decodes writes back to JSON that decodes to the same
// record: nothing the store reads is lost when it writes it again (a
// punch's own fields beside the wire punch's, states by name).
func FuzzRecords(f *testing.F) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, v := range []any{
		Punch{DeviceID: "d1", CompanyID: "1", ReceivedAt: t0, Final: true, CorrectedAt: t0,
			Punch: wire.Punch{ID: "a", Seq: 1, Employee: "E1", Kind: wire.KindIn, Time: t0, Corrected: true, OriginalTime: t0}},
		Session{ID: "s", CompanyID: "1", Serial: "S", State: SessionBurned, CodeSalt: []byte{1}, SentAt: t0},
		Device{ID: "d", Status: DeviceDisabling, HighSeq: 1<<64 - 1},
	} {
		b, _ := json.Marshal(v)
		f.Add(b)
	}
	for _, s := range []string{`{}`, `null`, `[]`, `{"synced":true,"id":"x"}`, `{"state":"nosuch"}`, `{"status":7}`, `{"platform":"ios"}`, `{"time":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for name, mk := range records {
			v := mk()
			if DecodeRecord(b, v) != nil {
				continue
			}
			once, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%s decoded from %q does not encode: %v", name, b, err)
			}
			w := mk()
			if err := DecodeRecord(once, w); err != nil {
				t.Fatalf("%s written as %s does not read back: %v", name, once, err)
			}
			twice, _ := json.Marshal(w)
			if !bytes.Equal(once, twice) {
				t.Fatalf("%s changes when written again:\n%s\n%s", name, once, twice)
			}
		}
	})
}

// A record without its state or status is corrupt, not a zero state that
// could never be written back.
func TestRecordWithoutStateIsCorrupt(t *testing.T) {
	for _, v := range []any{new(Session), new(Device), new(MobileInstall)} {
		if err := DecodeRecord([]byte(`{"id":"x"}`), v); err == nil {
			t.Errorf("%T without its state decoded", v)
		}
	}
	var s Session
	if err := DecodeRecord([]byte(`{"id":"x","state":"burned"}`), &s); err != nil || s.State != SessionBurned {
		t.Errorf("a good session: %v %v", s.State, err)
	}
}
