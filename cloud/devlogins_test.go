package cloud

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"timeclock/cloud/access"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
)

func TestSeedDevLogins(t *testing.T) {
	dir := t.TempDir()
	db, err := boltstore.Open(filepath.Join(dir, "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	ds, err := seedDev(ctx, db, dir, "4242", now)
	if err != nil {
		t.Fatal(err)
	}
	first, err := seedDevLogins(ctx, db, dir, ds.CompanyID, now, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if first.AdminPassword == first.UserPassword || len(first.AdminPassword) != 16 {
		t.Fatalf("passwords %+v", first)
	}
	check := func(email, pw string) store.User {
		t.Helper()
		var u store.User
		db.View(ctx, func(tx store.Tx) (err error) { u, err = tx.User(ds.CompanyID, email); return err })
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pw)) != nil {
			t.Fatalf("%s: the stored hash does not fit the printed password", email)
		}
		return u
	}
	if u := check(DemoAdminEmail, first.AdminPassword); !u.Administrator {
		t.Error("the demo administrator lost the profile")
	}
	pat := check(DemoUserEmail, first.UserPassword)
	var set access.Permissions
	db.View(ctx, func(tx store.Tx) (err error) { set, err = access.LoadPermissions(tx, pat); return err })
	if !set.Has(access.DashboardAccess) || !set.Has(access.DevicesView) || set.Has(access.DevicesAdd) || set.Administrator() {
		t.Errorf("the demo user's role grants %+v; want Dashboard and Mobile Devices View, not Add", set)
	}
	if st, _ := os.Stat(filepath.Join(dir, DevLoginsFile)); st.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v", DevLoginsFile, st.Mode().Perm())
	}

	// An administrator takes the demo user's role away; a restart keeps
	// that and the passwords.
	db.Update(ctx, func(tx store.Tx) error { pat.RoleID = ""; return tx.PutUser(pat) })
	again, err := seedDevLogins(ctx, db, dir, ds.CompanyID, now, bcrypt.MinCost)
	if err != nil || again != first {
		t.Fatalf("second start: %+v, %v; want the same passwords", again, err)
	}
	if u := check(DemoUserEmail, first.UserPassword); u.RoleID != "" {
		t.Errorf("restart gave the role back: %q", u.RoleID)
	}

	os.WriteFile(filepath.Join(dir, DevLoginsFile), []byte("{"), 0o600)
	if _, err := seedDevLogins(ctx, db, dir, ds.CompanyID, now, bcrypt.MinCost); err == nil {
		t.Error("a damaged dev-logins.json was accepted")
	}
}
