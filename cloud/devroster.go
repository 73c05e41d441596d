package cloud

import (
	"context"
	"errors"
	"time"

	"timeclock/cloud/roster"
	"timeclock/cloud/store"
)

// demoRoster is the demo company's roster: the same people, badges, PINs
// and departments as scripts/demo-roster.json (make run's clock file), so
// a clock that takes the cloud's roster keeps working the same way. A test
// holds the two together.
func demoRoster() []roster.Employee {
	pin := func(s string) *string { return &s }
	no := false
	return []roster.Employee{
		{ID: "E100", Name: "Ada Lovelace", Badges: []string{"10001"}, PIN: pin("1234"), Departments: []string{"Assembly", "Shipping", "Office"}, Supervisor: true},
		{ID: "E101", Name: "Grace Hopper", Badges: []string{"10002"}, PIN: pin("2345"), Departments: []string{"Assembly"}},
		{ID: "E102", Name: "Alan Turing", Badges: []string{"10003", "12:34567"}, PIN: pin("3456")},
		{ID: "E103", Name: "Katherine Johnson", Badges: []string{"10004", "20004"}, PIN: pin("4567"), Departments: []string{"Shipping"}},
		{ID: "E104", Name: "Hedy Lamarr", Badges: []string{"10005"}, PIN: pin("5678"), Active: &no},
	}
}

// seedDemoRoster gives the demo company its roster once; later changes
// (through the API) are kept across restarts.
func seedDemoRoster(ctx context.Context, st store.Store, companyID string, now time.Time) error {
	var have bool
	err := st.View(ctx, func(tx store.Tx) error {
		_, err := tx.Roster(companyID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		have = err == nil
		return err
	})
	if err != nil || have {
		return err
	}
	_, err = roster.Update(ctx, st, companyID, roster.Change{Full: true, Upsert: demoRoster()}, "dev seed", now)
	return err
}
