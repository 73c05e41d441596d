// Package storetest is the behaviour every store.Store must show. The bbolt
// store runs it; a PostgreSQL store must pass the same suite.
package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"timeclock/cloud/store"
)

// Run runs the suite; open returns a fresh, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"CompaniesAndUsers", companiesAndUsers},
		{"Sessions", sessions},
		{"SessionIndexFollowsNewest", sessionIndexFollowsNewest},
		{"DeleteExpiredSessions", deleteExpiredSessions},
		{"Devices", devices},
		{"AdminTokens", adminTokens},
		{"AllDevicesAndNewFields", allDevicesAndNewFields},
		{"PunchesOncePerID", punchesOncePerID},
		{"CorrectionsBesideOriginal", correctionsBesideOriginal},
		{"Commands", commands},
		{"Rosters", rosters},
		{"BiometricsOncePerSeq", biometricsOncePerSeq},
		{"FailedUpdateWritesNothing", failedUpdateWritesNothing},
		{"WritesInViewFail", writesInViewFail},
		{"CancelledContext", cancelledContext},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			tc.fn(t, s)
		})
	}
	for _, tc := range adminSuite {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func update(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func notFound(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: err %v, want ErrNotFound", what, err)
	}
}

func companiesAndUsers(t *testing.T, s store.Store) {
	c := store.Company{ID: "482913", Name: "Acme Builders", Timezone: "America/Chicago"}
	users := []store.User{
		{CompanyID: c.ID, Email: "zed@acme.example", Name: "Zed", Administrator: true},
		{CompanyID: c.ID, Email: "amy@acme.example", Name: "Amy"},
		{CompanyID: "48291", Email: "other@prefix.example"}, // a company ID that is a prefix
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutCompany(c); err != nil {
			return err
		}
		for _, u := range users {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Company(c.ID)
		if err != nil || got != c {
			t.Errorf("Company = %+v, %v", got, err)
		}
		_, err = tx.Company("999999")
		notFound(t, err, "unknown company")
		us, err := tx.Users(c.ID)
		if err != nil {
			return err
		}
		if want := []store.User{users[1], users[0]}; !reflect.DeepEqual(us, want) {
			t.Errorf("Users = %+v, want %+v (by email, own company only)", us, want)
		}
		return nil
	})
	// A put replaces the user with the same email, case-insensitively.
	update(t, s, func(tx store.Tx) error {
		return tx.PutUser(store.User{CompanyID: c.ID, Email: "AMY@acme.example", Name: "Amy", Administrator: true})
	})
	view(t, s, func(tx store.Tx) error {
		us, _ := tx.Users(c.ID)
		if len(us) != 2 || !us[0].Administrator {
			t.Errorf("after replacing Amy: %+v", us)
		}
		return nil
	})
}

func session(id, serial string, sent time.Time) store.Session {
	return store.Session{
		ID: id, CompanyID: "482913", Serial: serial, Model: "BN6500", Firmware: "1.0",
		Source: "192.0.2.7", State: store.SessionCodeSent,
		CodeSalt: []byte("salt"), CodeHash: []byte("hash"),
		SentAt: sent, ExpiresAt: sent.Add(10 * time.Minute), Recipients: 2,
	}
}

func sessions(t *testing.T, s store.Store) {
	a := session("s1", "SN1", t0)
	update(t, s, func(tx store.Tx) error { return tx.PutSession(a) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Session("s1")
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("Session = %+v, %v; want %+v", got, err, a)
		}
		got, err = tx.SessionFor("482913", "SN1")
		if err != nil || got.ID != "s1" {
			t.Errorf("SessionFor = %+v, %v", got, err)
		}
		_, err = tx.SessionFor("482913", "SN2")
		notFound(t, err, "session of another clock")
		_, err = tx.Session("nope")
		notFound(t, err, "unknown session")
		return nil
	})
	a.State, a.WrongTries = store.SessionBurned, 5
	update(t, s, func(tx store.Tx) error { return tx.PutSession(a) })
	view(t, s, func(tx store.Tx) error {
		got, _ := tx.Session("s1")
		if got.State != store.SessionBurned || got.WrongTries != 5 {
			t.Errorf("updated session reads %+v", got)
		}
		return nil
	})
}

func sessionIndexFollowsNewest(t *testing.T, s store.Store) {
	old, nw := session("old", "SN1", t0), session("new", "SN1", t0.Add(time.Minute))
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutSession(old); err != nil {
			return err
		}
		return tx.PutSession(nw)
	})
	// Updating the older one (marking it replaced) must not move the index back.
	old.State = store.SessionReplaced
	update(t, s, func(tx store.Tx) error { return tx.PutSession(old) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.SessionFor("482913", "SN1")
		if err != nil || got.ID != "new" {
			t.Errorf("SessionFor = %q, %v; want the newest", got.ID, err)
		}
		return nil
	})
}

func deleteExpiredSessions(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for _, x := range []store.Session{session("a", "SN1", t0), session("b", "SN2", t0.Add(time.Hour))} {
			if err := tx.PutSession(x); err != nil {
				return err
			}
		}
		n, err := tx.DeleteSessionsExpiredBefore(t0.Add(30 * time.Minute))
		if n != 1 {
			t.Errorf("deleted %d, want 1", n)
		}
		return err
	})
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Session("a")
		notFound(t, err, "deleted session")
		_, err = tx.SessionFor("482913", "SN1")
		notFound(t, err, "index of a deleted session")
		if _, err := tx.Session("b"); err != nil {
			t.Errorf("live session gone: %v", err)
		}
		return nil
	})
}

func devices(t *testing.T, s store.Store) {
	d1 := store.Device{ID: "d2", CompanyID: "482913", Serial: "SN1", Model: "BN6500", Firmware: "1.0",
		Nickname: "BN6500 SN1", Status: store.DeviceApproved, ActivatedAt: t0, CertSerial: "0a"}
	d2 := store.Device{ID: "d1", CompanyID: "482913", Serial: "SN2", Model: "JR2000", Firmware: "1.0",
		Nickname: "Gate", Status: store.DeviceDisabled, ActivatedAt: t0,
		DisabledAt: t0.Add(time.Hour), DisabledBy: "amy@acme.example", LastUsedBy: "Bob", CertSerial: "0b"}
	d3 := store.Device{ID: "d3", CompanyID: "7", Serial: "SN1", Status: store.DeviceApproved, ActivatedAt: t0}
	update(t, s, func(tx store.Tx) error {
		for _, d := range []store.Device{d1, d2, d3} {
			if err := tx.PutDevice(d); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		ds, err := tx.Devices("482913")
		if err != nil {
			return err
		}
		if want := []store.Device{d2, d1}; !reflect.DeepEqual(ds, want) {
			t.Errorf("Devices = %+v\nwant %+v", ds, want)
		}
		got, err := tx.DeviceBySerial("7", "SN1")
		if err != nil || got.ID != "d3" {
			t.Errorf("DeviceBySerial = %+v, %v", got, err)
		}
		_, err = tx.DeviceBySerial("7", "SN2")
		notFound(t, err, "unknown serial")
		_, err = tx.Device("d9")
		notFound(t, err, "unknown device")
		return nil
	})
}

func adminTokens(t *testing.T, s store.Store) {
	a := store.AdminToken{Hash: store.TokenHash("secret-token"), CompanyID: "482913", UserEmail: "zed@acme.example", CreatedAt: t0}
	update(t, s, func(tx store.Tx) error { return tx.PutAdminToken(a) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.AdminToken(store.TokenHash("secret-token"))
		if err != nil || got != a {
			t.Errorf("AdminToken = %+v, %v", got, err)
		}
		_, err = tx.AdminToken(store.TokenHash("guess"))
		notFound(t, err, "wrong token")
		_, err = tx.AdminToken("")
		notFound(t, err, "empty hash")
		return nil
	})
}

func failedUpdateWritesNothing(t *testing.T, s store.Store) {
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.PutCompany(store.Company{ID: "1", Name: "Half"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Company("1")
		notFound(t, err, "company of a failed update")
		return nil
	})
}

func writesInViewFail(t *testing.T, s store.Store) {
	err := s.View(context.Background(), func(tx store.Tx) error {
		return tx.PutCompany(store.Company{ID: "1"})
	})
	if err == nil {
		t.Fatal("a put inside View succeeded")
	}
}

func cancelledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := s.Update(ctx, func(tx store.Tx) error { ran = true; return nil })
	if err == nil || ran {
		t.Fatalf("Update on a cancelled context: err %v, ran %v", err, ran)
	}
}
