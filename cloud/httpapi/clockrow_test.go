package httpapi

import (
	"testing"

	"timeclock/cloud/store"
)

// The devices page warns about a clock more than a minute off, either way.
func TestRowClockWarning(t *testing.T) {
	ms := func(v int64) *int64 { return &v }
	for _, tt := range []struct {
		offset *int64
		warn   bool
	}{
		{nil, false}, {ms(0), false}, {ms(60_000), false}, {ms(60_001), true}, {ms(-90_000), true},
	} {
		r := Row(store.Device{Status: store.DeviceApproved, ClockSource: "cloud", ClockOffsetMS: tt.offset})
		if r.ClockWarning != tt.warn || r.ClockSource != "cloud" {
			t.Errorf("offset %v: row %+v", tt.offset, r)
		}
	}
}
