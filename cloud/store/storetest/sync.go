package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"timeclock/cloud/store"
	"timeclock/wire"
)

func allDevicesAndNewFields(t *testing.T, s store.Store) {
	d := store.Device{ID: "b1", CompanyID: "9", Serial: "S1", Status: store.DeviceDisabling,
		DisableCmd: "c1", Online: true, StatusAt: t0, Pending: 3, OldestAge: 60, NTPSynced: true,
		Interface: "eth0", HighSeq: 7, Punches: 7, RosterVersion: 2, RevokedSerials: []string{"0a"}}
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutDevice(d); err != nil {
			return err
		}
		return tx.PutDevice(store.Device{ID: "a1", CompanyID: "8", Serial: "S1", Status: store.DeviceApproved})
	})
	view(t, s, func(tx store.Tx) error {
		all, err := tx.AllDevices()
		if err != nil || len(all) != 2 || all[0].ID != "a1" || !reflect.DeepEqual(all[1], d) {
			t.Errorf("AllDevices = %+v, %v", all, err)
		}
		return nil
	})
	if !store.DeviceDisabling.Disabled() || !store.DeviceDisabled.Disabled() || store.DeviceApproved.Disabled() {
		t.Error("Disabled() is wrong")
	}
}

func punch(dev string, seq uint64) store.Punch {
	return store.Punch{DeviceID: dev, CompanyID: "9", ReceivedAt: t0,
		Punch: wire.Punch{ID: fmt.Sprintf("%s-%04d", dev, seq), Seq: seq, Employee: "E1", Kind: wire.KindIn,
			Time: t0.Add(time.Duration(seq) * time.Minute), TZ: "UTC"}}
}

func punchesOncePerID(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for seq := uint64(1); seq <= 5; seq++ {
			for _, dev := range []string{"d1", "d10"} {
				added, err := tx.PutPunch(punch(dev, seq))
				if err != nil || !added {
					return fmt.Errorf("first put %s/%d: added %v, %v", dev, seq, added, err)
				}
			}
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		again := punch("d1", 3)
		again.Employee = "someone else"
		added, err := tx.PutPunch(again)
		if err != nil || added {
			t.Errorf("second put of the same ID: added %v, %v", added, err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		ps, err := tx.Punches("d1", "", 100)
		if err != nil || len(ps) != 5 {
			t.Fatalf("Punches(d1) = %d, %v", len(ps), err)
		}
		if ps[2].Employee != "E1" || !ps[2].Time.Equal(punch("d1", 3).Time) || ps[2].DeviceID != "d1" {
			t.Errorf("stored punch %+v: first write must win", ps[2])
		}
		page, _ := tx.Punches("d1", ps[1].ID, 2)
		if len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
			t.Errorf("page after %s = %+v", ps[1].ID, page)
		}
		if none, _ := tx.Punches("d2", "", 10); len(none) != 0 {
			t.Errorf("another device's prefix leaked: %d", len(none))
		}
		return nil
	})
}

func commands(t *testing.T, s store.Store) {
	c1 := store.Command{DeviceID: "d1", Cmd: wire.Command{ID: "0001", Type: wire.CmdDisable, Issued: t0}, Retained: true, CreatedAt: t0}
	c2 := store.Command{DeviceID: "d1", Cmd: wire.Command{ID: "0002", Type: wire.CmdRoster, Issued: t0}, RosterVersion: 3, RosterFull: true, CreatedAt: t0}
	c3 := store.Command{DeviceID: "d11", Cmd: wire.Command{ID: "0003", Type: wire.CmdReboot, Issued: t0}, CreatedAt: t0}
	update(t, s, func(tx store.Tx) error {
		for _, c := range []store.Command{c2, c1, c3} {
			if err := tx.PutCommand(c); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		cs, err := tx.Commands("d1")
		if err != nil || !reflect.DeepEqual(cs, []store.Command{c1, c2}) {
			t.Errorf("Commands = %+v, %v", cs, err)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteCommand("d1", "0001"); err != nil {
			return err
		}
		return tx.DeleteCommand("d1", "gone")
	})
	view(t, s, func(tx store.Tx) error {
		if cs, _ := tx.Commands("d1"); len(cs) != 1 || cs[0].Cmd.ID != "0002" {
			t.Errorf("after delete: %+v", cs)
		}
		return nil
	})
}

func rosters(t *testing.T, s store.Store) {
	r := store.Roster{CompanyID: "9", Version: 2, Salt: []byte("0123456789abcdef"), UpdatedAt: t0, UpdatedBy: "a@x"}
	emps := []store.RosterEmployee{
		{CompanyID: "9", ID: "E2", Name: "Bo", Badges: []string{"2"}, Active: true, Version: 2},
		{CompanyID: "9", ID: "E1", Name: "Al", PINHash: make([]byte, 32), Active: true, Version: 1},
		{CompanyID: "9", ID: "E3", Version: 2, Removed: true},
		{CompanyID: "90", ID: "E1", Name: "Other company", Version: 1},
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutRoster(r); err != nil {
			return err
		}
		for _, e := range emps {
			if err := tx.PutRosterEmployee(e); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Roster("9")
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("Roster = %+v, %v", got, err)
		}
		_, err = tx.Roster("90")
		notFound(t, err, "roster never put")
		es, err := tx.RosterEmployees("9")
		if want := []store.RosterEmployee{emps[1], emps[0], emps[2]}; err != nil || !reflect.DeepEqual(es, want) {
			b, _ := json.Marshal(es)
			t.Errorf("RosterEmployees = %s, %v", b, err)
		}
		return nil
	})
}

// correctionsBesideOriginal: a clock's correction puts the corrected time
// in Time, keeps the first time as OriginalTime, marks the punch corrected,
// and a correction sent again changes nothing.
func correctionsBesideOriginal(t *testing.T, s store.Store) {
	orig := punch("d1", 1)
	orig.Time, orig.TimeSource, orig.BootID, orig.MonoNS = time.Unix(300, 0).UTC(), "unset", "boot", 300e9
	c := orig.Punch
	c.Time, c.Corrected, c.OriginalTime, c.BootID, c.MonoNS = t0, true, orig.Time, "", 0
	at := t0.Add(time.Minute)
	update(t, s, func(tx store.Tx) error {
		if stored, err := tx.CorrectPunch("d1", c, at); err != nil || stored {
			t.Errorf("correction of a punch not stored: %v, %v", stored, err)
		}
		if _, err := tx.PutPunch(orig); err != nil {
			return err
		}
		for range 2 {
			again := c
			again.Time = c.Time.Add(time.Hour) // a later copy never moves it again
			if stored, err := tx.CorrectPunch("d1", c, at); err != nil || !stored {
				t.Errorf("correction: %v, %v", stored, err)
			}
			c = again
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		ps, err := tx.Punches("d1", "", 10)
		if err != nil || len(ps) != 1 {
			t.Fatalf("Punches = %+v, %v", ps, err)
		}
		p := ps[0]
		if !p.Corrected || !p.Time.Equal(t0) || !p.OriginalTime.Equal(orig.Time) || !p.CorrectedAt.Equal(at) || p.BootID != "" || p.TimeSource != "unset" {
			t.Errorf("corrected punch %+v", p)
		}
		return nil
	})
}

// biometricsOncePerSeq: a clock's consent and deletion records are stored
// once per device and sequence number, listed per company in device and
// sequence order, and folded into one row per employee and clock.
func biometricsOncePerSeq(t *testing.T, s store.Store) {
	rec := func(company, dev string, seq uint64, kind, emp string, at time.Time) store.BiometricRecord {
		r := store.BiometricRecord{CompanyID: company, DeviceID: dev, ReceivedAt: at,
			BiometricReport: wire.BiometricReport{Seq: seq, Kind: kind, Employee: emp, At: at}}
		if kind == wire.BiometricConsent {
			r.Supervisor = "S1"
		}
		return r
	}
	recs := []store.BiometricRecord{
		rec("c1", "d2", 10, wire.BiometricConsent, "E1", t0),
		rec("c1", "d1", 2, wire.BiometricConsent, "E1", t0),
		rec("c1", "d1", 9, wire.BiometricDeleted, "E1", t0.Add(time.Hour)),
		rec("c2", "d3", 1, wire.BiometricConsent, "E9", t0),
	}
	update(t, s, func(tx store.Tx) error {
		for _, r := range recs {
			added, err := tx.PutBiometric(r)
			if err != nil || !added {
				return fmt.Errorf("put %+v: added %v, %v", r, added, err)
			}
		}
		again := recs[0]
		again.Employee = "E7" // a resend is not a change
		if added, err := tx.PutBiometric(again); err != nil || added {
			return fmt.Errorf("resend: added %v, %v", added, err)
		}
		if _, err := tx.PutBiometric(store.BiometricRecord{DeviceID: "d1"}); err == nil {
			return fmt.Errorf("a record without a company was stored")
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Biometrics("c1")
		if err != nil {
			return err
		}
		var keys []string
		for _, r := range got {
			keys = append(keys, fmt.Sprintf("%s/%d/%s", r.DeviceID, r.Seq, r.Employee))
		}
		if want := []string{"d1/2/E1", "d1/9/E1", "d2/10/E1"}; !reflect.DeepEqual(keys, want) {
			t.Errorf("company c1's records %v, want %v", keys, want)
		}
		sum, err := store.BiometricSummary(tx, "c1")
		if err != nil {
			return err
		}
		if len(sum) != 1 || len(sum[0].Clocks) != 2 {
			t.Fatalf("summary %+v", sum)
		}
		d1, d2 := sum[0].Clocks[0], sum[0].Clocks[1]
		if d1.DeviceID != "d1" || d1.Enrolled || !d1.DeletedAt.Equal(t0.Add(time.Hour)) || !d1.ConsentAt.Equal(t0) ||
			d2.DeviceID != "d2" || !d2.Enrolled || d2.Supervisor != "S1" || !d2.DeletedAt.IsZero() {
			t.Errorf("summary clocks %+v", sum[0].Clocks)
		}
		return nil
	})
}
