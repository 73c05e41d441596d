package storetest

import (
	"reflect"
	"testing"
	"time"

	"timeclock/cloud/store"
)

// adminSuite is the behaviour behind the administrator's pages.
var adminSuite = []struct {
	name string
	fn   func(*testing.T, store.Store)
}{
	{"CompaniesListed", companiesListed},
	{"UserLookups", userLookups},
	{"SetupSecrets", setupSecrets},
	{"Roles", rolesCRUD},
	{"LoginSessions", loginSessions},
	{"MobileInstalls", mobileInstalls},
}

func companiesListed(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"7", "482913", "1234"} {
			if err := tx.PutCompany(store.Company{ID: id, Name: "C" + id, Timezone: "UTC"}); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		cs, err := tx.Companies()
		if err != nil {
			return err
		}
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		if want := []string{"1234", "482913", "7"}; !reflect.DeepEqual(ids, want) {
			t.Errorf("Companies = %v, want %v", ids, want)
		}
		return nil
	})
}

func userLookups(t *testing.T, s store.Store) {
	a := store.User{CompanyID: "482913", Email: "Dana@Acme.example", Name: "Dana", Administrator: true, PasswordHash: "$2a$hash"}
	b := store.User{CompanyID: "1234", Email: "dana@acme.example", Name: "Dana B", RoleID: "r1"}
	c := store.User{CompanyID: "482913", Email: "danan@acme.example", Name: "Other"}
	update(t, s, func(tx store.Tx) error {
		for _, u := range []store.User{a, b, c} {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.User("482913", "DANA@acme.example")
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("User = %+v, %v; want %+v", got, err, a)
		}
		_, err = tx.User("1234", "danan@acme.example")
		notFound(t, err, "user of another company")
		us, err := tx.UsersByEmail("dana@ACME.example")
		if err != nil {
			return err
		}
		if want := []store.User{b, a}; !reflect.DeepEqual(us, want) {
			t.Errorf("UsersByEmail = %+v, want %+v (both companies, by company ID, no prefix match)", us, want)
		}
		if us, err := tx.UsersByEmail("nobody@acme.example"); err != nil || len(us) != 0 {
			t.Errorf("UsersByEmail(unknown) = %+v, %v", us, err)
		}
		return nil
	})
}

func setupSecrets(t *testing.T, s store.Store) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	view(t, s, func(tx store.Tx) error {
		_, err := tx.SetupSecret("482913")
		notFound(t, err, "secret before one is made")
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.PutSetupSecret("482913", secret) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.SetupSecret("482913")
		if err != nil || string(got) != string(secret) {
			t.Errorf("SetupSecret = %q, %v", got, err)
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutSetupSecret("1", []byte("short")) })
	if err == nil {
		t.Error("a 5-byte setup secret was stored")
	}
}

func rolesCRUD(t *testing.T, s store.Store) {
	r1 := store.Role{CompanyID: "482913", ID: "r2", Name: "Payroll", Permissions: []string{"dashboard.access"}, CreatedAt: t0}
	r2 := store.Role{CompanyID: "482913", ID: "r1", Name: "Foremen", Permissions: []string{}, CreatedAt: t0}
	r3 := store.Role{CompanyID: "48291", ID: "r1", Name: "Prefix company", CreatedAt: t0}
	update(t, s, func(tx store.Tx) error {
		for _, r := range []store.Role{r1, r2, r3} {
			if err := tx.PutRole(r); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		rs, err := tx.Roles("482913")
		if err != nil {
			return err
		}
		if want := []store.Role{r2, r1}; !reflect.DeepEqual(rs, want) {
			t.Errorf("Roles = %+v, want %+v", rs, want)
		}
		got, err := tx.Role("48291", "r1")
		if err != nil || got.Name != "Prefix company" {
			t.Errorf("Role = %+v, %v", got, err)
		}
		return nil
	})
	r1.Permissions = append(r1.Permissions, "mobile_devices.add")
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutRole(r1); err != nil {
			return err
		}
		return tx.DeleteRole("482913", "r1")
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Role("482913", "r2")
		if err != nil || !reflect.DeepEqual(got, r1) {
			t.Errorf("updated role = %+v, %v", got, err)
		}
		_, err = tx.Role("482913", "r1")
		notFound(t, err, "deleted role")
		return nil
	})
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteRole("482913", "r9") })
	notFound(t, err, "deleting an unknown role")
}

func loginSessions(t *testing.T, s store.Store) {
	live := store.LoginSession{Hash: store.TokenHash("cookie-1"), CompanyID: "482913", Email: "dana@acme.example",
		CSRF: "csrf-1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), Source: "127.0.0.1"}
	old := live
	old.Hash, old.ExpiresAt = store.TokenHash("cookie-2"), t0.Add(time.Minute)
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutLoginSession(live); err != nil {
			return err
		}
		return tx.PutLoginSession(old)
	})
	update(t, s, func(tx store.Tx) error {
		n, err := tx.DeleteLoginSessionsExpiredBefore(t0.Add(10 * time.Minute))
		if n != 1 {
			t.Errorf("deleted %d expired logins, want 1", n)
		}
		return err
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.LoginSession(store.TokenHash("cookie-1"))
		if err != nil || got != live {
			t.Errorf("LoginSession = %+v, %v", got, err)
		}
		_, err = tx.LoginSession(store.TokenHash("cookie-2"))
		notFound(t, err, "expired login")
		_, err = tx.LoginSession("")
		notFound(t, err, "empty hash")
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteLoginSession(live.Hash) })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.LoginSession(live.Hash)
		notFound(t, err, "logged-out login")
		return nil
	})
}

func mobileInstalls(t *testing.T, s store.Store) {
	m1 := store.MobileInstall{ID: "b2", CompanyID: "482913", InstallID: "app-1", Platform: store.PlatformIOS,
		AppVersion: "3.1.0", Nickname: "Dana's iPhone", Status: store.DeviceApproved,
		TokenHash: store.TokenHash("tok-1"), EnrolledAt: t0}
	m2 := store.MobileInstall{ID: "a1", CompanyID: "482913", InstallID: "app-2", Platform: store.PlatformAndroid,
		AppVersion: "3.0.9", Nickname: "Pixel", Status: store.DeviceApproved, TokenHash: store.TokenHash("tok-2"), EnrolledAt: t0}
	m3 := store.MobileInstall{ID: "c3", CompanyID: "48291", InstallID: "app-1", Platform: store.PlatformAndroid,
		Status: store.DeviceApproved, EnrolledAt: t0}
	update(t, s, func(tx store.Tx) error {
		for _, m := range []store.MobileInstall{m1, m2, m3} {
			if err := tx.PutMobileInstall(m); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		ms, err := tx.MobileInstalls("482913")
		if err != nil {
			return err
		}
		if want := []store.MobileInstall{m2, m1}; !reflect.DeepEqual(ms, want) {
			t.Errorf("MobileInstalls = %+v\nwant %+v", ms, want)
		}
		got, err := tx.MobileInstallByApp("48291", "app-1")
		if err != nil || got.ID != "c3" {
			t.Errorf("MobileInstallByApp = %+v, %v", got, err)
		}
		got, err = tx.MobileInstallByToken(store.TokenHash("tok-1"))
		if err != nil || got.ID != "b2" {
			t.Errorf("MobileInstallByToken = %+v, %v", got, err)
		}
		_, err = tx.MobileInstallByToken("")
		notFound(t, err, "empty token hash")
		return nil
	})
	// A new token replaces the old one: the old token finds nothing.
	m1.TokenHash, m1.Status, m1.DisabledBy = store.TokenHash("tok-3"), store.DeviceDisabled, "amy@acme.example"
	update(t, s, func(tx store.Tx) error { return tx.PutMobileInstall(m1) })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.MobileInstallByToken(store.TokenHash("tok-1"))
		notFound(t, err, "replaced token")
		got, err := tx.MobileInstallByToken(store.TokenHash("tok-3"))
		if err != nil || !reflect.DeepEqual(got, m1) {
			t.Errorf("after new token: %+v, %v", got, err)
		}
		return nil
	})
}
