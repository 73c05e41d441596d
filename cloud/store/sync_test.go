package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"timeclock/wire"
)

// A stored punch reads back whole (its own fields too, though wire.Punch
// has an UnmarshalJSON), and one stored before the rename, with "synced",
// reads with its clock set.
func TestPunchRecordRoundTripAndOldSynced(t *testing.T) {
	at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	p := Punch{DeviceID: "dev-1", CompanyID: "9", ReceivedAt: at.Add(time.Second), Final: true, CorrectedAt: at.Add(time.Minute),
		Punch: wire.Punch{ID: "p1", Seq: 7, Employee: "E100", Kind: wire.KindIn, Time: at, TZ: "UTC", ClockSet: true,
			Corrected: true, OriginalTime: time.Unix(300, 0).UTC(), TimeSource: "unset"}}
	// Every field is set above: a field added to Punch must be added here
	// and to UnmarshalJSON.
	if n := reflect.TypeOf(p).NumField(); n != 6 {
		t.Fatalf("Punch has %d fields; decode the new ones in UnmarshalJSON", n)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Punch
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, p) {
		t.Fatalf("read back %+v, %v; want %+v", back, err, p)
	}
	old := `{"device_id":"dev-1","company_id":"9","id":"p1","seq":7,"employee":"E100","kind":"IN",` +
		`"time":"2026-11-22T08:00:00Z","tz":"UTC","tz_offset":0,"synced":true,"received_at":"2026-11-22T08:00:01Z","final":true}`
	back = Punch{}
	p.CorrectedAt, p.Corrected, p.OriginalTime, p.TimeSource = time.Time{}, false, time.Time{}, ""
	if err := json.Unmarshal([]byte(old), &back); err != nil || !reflect.DeepEqual(back, p) {
		t.Fatalf("old record read %+v, %v; want %+v", back, err, p)
	}
}
