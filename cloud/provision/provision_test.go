package provision

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"timeclock/clock"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
)

func newAdmin(t *testing.T) Admin {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return Admin{Store: db, Clock: clock.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)), Cost: bcrypt.MinCost}
}

func TestSetUpAndChange(t *testing.T) {
	ctx := context.Background()
	a := newAdmin(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.AddCompany(ctx, store.Company{ID: "4829", Name: " Acme ", Timezone: "America/Chicago"}))
	must(a.AddUser(ctx, store.User{CompanyID: "4829", Email: "dana@acme.example", Name: "Dana", Administrator: true}, "a long password"))
	must(a.AddRole(ctx, store.Role{CompanyID: "4829", ID: "payroll", Name: "Payroll", Permissions: []string{"dashboard.access"}}))
	must(a.AddUser(ctx, store.User{CompanyID: "4829", Email: "pat@acme.example", Name: "Pat"}, ""))
	must(a.AssignRole(ctx, "4829", "pat@acme.example", "payroll"))
	must(a.SetPassword(ctx, "4829", "pat@acme.example", "another long one"))
	tok, err := a.NewToken(ctx, "4829", "dana@acme.example")
	must(err)
	must(a.Store.View(ctx, func(tx store.Tx) error {
		c, _ := tx.Company("4829")
		if c.Name != "Acme" {
			t.Errorf("company %+v", c)
		}
		u, err := tx.User("4829", "pat@acme.example")
		if err != nil || u.RoleID != "payroll" || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("another long one")) != nil {
			t.Errorf("pat %+v %v", u, err)
		}
		at, err := tx.AdminToken(store.TokenHash(tok))
		if err != nil || at.UserEmail != "dana@acme.example" || at.CompanyID != "4829" {
			t.Errorf("token %+v %v", at, err)
		}
		return nil
	}))
	for _, tc := range []struct {
		name string
		err  error
		is   error
	}{
		{"company again", a.AddCompany(ctx, store.Company{ID: "4829", Name: "X", Timezone: "UTC"}), ErrExists},
		{"company ID short", a.AddCompany(ctx, store.Company{ID: "48", Name: "X", Timezone: "UTC"}), nil},
		{"bad zone", a.AddCompany(ctx, store.Company{ID: "4830", Name: "X", Timezone: "Mars/Base"}), nil},
		{"user again", a.AddUser(ctx, store.User{CompanyID: "4829", Email: "dana@acme.example", Name: "D"}, ""), ErrExists},
		{"user of no company", a.AddUser(ctx, store.User{CompanyID: "9999", Email: "a@b.example", Name: "A"}, ""), ErrNotFound},
		{"short password", a.AddUser(ctx, store.User{CompanyID: "4829", Email: "s@acme.example", Name: "S"}, "short"), nil},
		{"admin with a role", a.AddUser(ctx, store.User{CompanyID: "4829", Email: "r@acme.example", Name: "R", Administrator: true, RoleID: "payroll"}, ""), nil},
		{"unknown role", a.AssignRole(ctx, "4829", "pat@acme.example", "nosuch"), ErrNotFound},
		{"role to an administrator", a.AssignRole(ctx, "4829", "dana@acme.example", "payroll"), nil},
		{"unknown permission", a.AddRole(ctx, store.Role{CompanyID: "4829", ID: "x", Name: "X", Permissions: []string{"everything"}}), nil},
		{"token for nobody", func() error { _, err := a.NewToken(ctx, "4829", "nobody@acme.example"); return err }(), ErrNotFound},
	} {
		if tc.err == nil || (tc.is != nil && !errors.Is(tc.err, tc.is)) {
			t.Errorf("%s: %v, want an error (%v)", tc.name, tc.err, tc.is)
		}
	}
}

func TestMailAndSMSSettings(t *testing.T) {
	ctx := context.Background()
	a := newAdmin(t)
	if err := a.SetMail(ctx, store.SMTPSettings{Host: "smtp.acme.example", User: "clocks", Password: "pw", From: "Acme <c@acme.example>"}); err != nil {
		t.Fatal(err)
	}
	if err := a.SetSMS(ctx, store.SMSSettings{URL: "https://sms.example/send", Token: "tok"}); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"no host":         a.SetMail(ctx, store.SMTPSettings{}),
		"user, no pass":   a.SetMail(ctx, store.SMTPSettings{Host: "h.example", User: "u"}),
		"bad tls":         a.SetMail(ctx, store.SMTPSettings{Host: "h.example", TLS: "maybe"}),
		"bad ca":          a.SetMail(ctx, store.SMTPSettings{Host: "h.example", CAPEM: "not pem"}),
		"bad from":        a.SetMail(ctx, store.SMTPSettings{Host: "h.example", From: "nobody"}),
		"sms no token":    a.SetSMS(ctx, store.SMSSettings{URL: "https://sms.example/send"}),
		"sms http remote": a.SetSMS(ctx, store.SMSSettings{URL: "http://sms.example/send", Token: "t"}),
		"sms bad url":     a.SetSMS(ctx, store.SMSSettings{URL: "nonsense", Token: "t"}),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	a.Store.View(ctx, func(tx store.Tx) error {
		s, err := tx.Settings()
		if err != nil || s.SMTP.Host != "smtp.acme.example" || s.SMTP.Port != 587 || s.SMTP.TLS != "starttls" || s.SMS.Token != "tok" {
			t.Errorf("stored %+v %v (refused ones must change nothing)", s, err)
		}
		return nil
	})
}
