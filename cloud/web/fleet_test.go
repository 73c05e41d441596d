package web

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
)

var tFleet = time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC)

type recorder struct{ calls []string }

func (r *recorder) Disable(_ context.Context, company, id, by string) error {
	r.calls = append(r.calls, company+"/"+id+"/"+by)
	return nil
}

func TestListAndDisable(t *testing.T) {
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Update(context.Background(), func(tx store.Tx) error {
		tx.PutDevice(store.Device{ID: "c1", CompanyID: "1", Serial: "S1", Model: "BN6500", Firmware: "1.2.0", Nickname: "Yard gate",
			Status: store.DeviceApproved, LastCheckedIn: tFleet, LastUsedBy: "Bob", ClockSource: "rtc-unverified", ClockOffsetMS: func() *int64 { v := int64(-90_400); return &v }()})
		tx.PutDevice(store.Device{ID: "c2", CompanyID: "1", Serial: "S2", Model: "JR2000", Nickname: "Old office",
			Status: store.DeviceDisabled, DisabledAt: tFleet, DisabledBy: "amy@x"})
		tx.PutDevice(store.Device{ID: "c4", CompanyID: "1", Serial: "S4", Model: "BN6500", Nickname: "Lobby",
			Status: store.DeviceDisabling, DisabledAt: tFleet.Add(-time.Hour), DisabledBy: "amy@x"})
		tx.PutDevice(store.Device{ID: "c3", CompanyID: "2", Serial: "S1", Model: "BN6500", Nickname: "Other company", Status: store.DeviceApproved})
		tx.PutMobileInstall(store.MobileInstall{ID: "p1", CompanyID: "1", InstallID: "i1", Platform: store.PlatformIOS,
			AppVersion: "3.2.1", Nickname: "dana's iPhone", Status: store.DeviceApproved})
		tx.PutMobileInstall(store.MobileInstall{ID: "p2", CompanyID: "1", InstallID: "i2", Platform: store.PlatformAndroid,
			AppVersion: "3.0", Nickname: "Pixel", Status: store.DeviceDisabled, DisabledAt: tFleet.Add(time.Hour), DisabledBy: "amy@x"})
		return nil
	})
	clocks, phones := &recorder{}, &recorder{}
	f := &Fleet{Store: db, Clocks: clocks, Phones: phones}
	list, err := f.List(context.Background(), "1")
	if err != nil {
		t.Fatal(err)
	}
	ids := func(rs []DeviceRow) (out []string) {
		for _, r := range rs {
			out = append(out, r.ID+":"+r.Type)
		}
		return out
	}
	if got, want := ids(list.Approved), []string{"p1:iPhone (iOS)", "c1:BN6500"}; !reflect.DeepEqual(got, want) {
		t.Errorf("approved %v, want %v (by nickname, case-insensitive)", got, want)
	}
	if got, want := ids(list.Disabled), []string{"p2:Android", "c2:JR2000", "c4:BN6500"}; !reflect.DeepEqual(got, want) {
		t.Errorf("disabled %v, want %v (newest first, disabling ones too)", got, want)
	}
	if w := []bool{list.Disabled[0].Waiting, list.Disabled[1].Waiting, list.Disabled[2].Waiting}; !reflect.DeepEqual(w, []bool{true, false, true}) {
		t.Errorf("waiting for the last transmission: %v, want the phone that has not checked in and the disabling clock", w)
	}
	if r := list.Approved[1]; r.Version != "1.2.0" || !r.LastCheckedIn.Equal(tFleet) || r.LastUsedBy != "Bob" || r.Kind != KindClock {
		t.Errorf("clock row %+v", r)
	}
	if r := list.Approved[1]; !r.ClockWarning || r.ClockOff() != "-1m30s" || r.ClockSource != "rtc-unverified" {
		t.Errorf("clock row's time: warning %v, off %q, source %q", r.ClockWarning, r.ClockOff(), r.ClockSource)
	}
	if r := list.Approved[0]; r.ClockWarning || r.ClockOff() != "" {
		t.Errorf("phone row's time: %+v", r)
	}

	for _, id := range []string{"c1", "p1"} {
		if err := f.Disable(context.Background(), "1", id, "dana@x"); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(clocks.calls, []string{"1/c1/dana@x"}) || !reflect.DeepEqual(phones.calls, []string{"1/p1/dana@x"}) {
		t.Errorf("clock disables %v, phone disables %v", clocks.calls, phones.calls)
	}
	for _, id := range []string{"c3", "zz"} {
		if err := f.Disable(context.Background(), "1", id, "dana@x"); !errors.Is(err, ErrNoDevice) {
			t.Errorf("disable %s of another company or none: %v", id, err)
		}
	}
	if _, dis, err := f.Find(context.Background(), "1", "p2"); err != nil || !dis {
		t.Errorf("Find p2: disabled %v, %v", dis, err)
	}
}
