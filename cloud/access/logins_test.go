package access

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"timeclock/clock"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
)

var t0 = time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC)

const pw = "correct horse battery"

type env struct {
	svc *Logins
	db  *boltstore.DB
	clk *clock.Fake
	log *bytes.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hash, err := HashPassword(pw, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(context.Background(), func(tx store.Tx) error {
		tx.PutCompany(store.Company{ID: "1111", Name: "Acme", Timezone: "UTC"})
		tx.PutCompany(store.Company{ID: "2222", Name: "Beta", Timezone: "UTC"})
		tx.PutUser(store.User{CompanyID: "1111", Email: "dana@acme.example", Administrator: true, PasswordHash: hash})
		tx.PutUser(store.User{CompanyID: "1111", Email: "pat@acme.example", RoleID: "r1", PasswordHash: hash})
		tx.PutUser(store.User{CompanyID: "1111", Email: "nopass@acme.example"})
		tx.PutUser(store.User{CompanyID: "1111", Email: "both@x.example", PasswordHash: hash})
		tx.PutUser(store.User{CompanyID: "2222", Email: "both@x.example", PasswordHash: hash})
		return tx.PutRole(store.Role{CompanyID: "1111", ID: "r1", Name: "Payroll", Permissions: []string{"dashboard.access"}})
	})
	cfg := DefaultLoginConfig()
	cfg.BcryptCost = bcrypt.MinCost
	e := &env{db: db, clk: clock.NewFake(t0), log: &bytes.Buffer{}}
	e.svc, err = NewLogins(cfg, db, e.clk, slog.New(slog.NewTextHandler(e.log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestLogin(t *testing.T) {
	for _, tc := range []struct {
		name, email, company, password string
		want                           error
	}{
		{"administrator", "dana@acme.example", "", pw, nil},
		{"email case and spaces forgiven", "  DANA@acme.example ", "", pw, nil},
		{"wrong password", "dana@acme.example", "", pw + "!", ErrBadLogin},
		{"unknown email", "who@acme.example", "", pw, ErrBadLogin},
		{"user without a password", "nopass@acme.example", "", "", ErrBadLogin},
		{"empty", "", "", "", ErrBadLogin},
		{"password past bcrypt's 72 bytes", "dana@acme.example", "", pw + strings.Repeat("x", 80), ErrBadLogin},
		{"one email, two companies", "both@x.example", "", pw, ErrChooseCompany},
		{"one email, two companies, company given", "both@x.example", "2222", pw, nil},
		{"company that is not the user's", "dana@acme.example", "2222", pw, ErrBadLogin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s, err := e.svc.Login(context.Background(), "192.0.2.1", tc.email, tc.company, tc.password)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Login: %v, want %v", err, tc.want)
			}
			if strings.Contains(e.log.String(), pw) {
				t.Fatalf("the password is in the log:\n%s", e.log)
			}
			if tc.want != nil {
				return
			}
			if len(s.Cookie) != 43 || len(s.CSRF) != 43 || s.Cookie == s.CSRF {
				t.Fatalf("cookie %q csrf %q: want two different 256-bit random values", s.Cookie, s.CSRF)
			}
			found, err := e.svc.Find(context.Background(), s.Cookie)
			if err != nil || found.User.Email != s.User.Email || found.CSRF != s.CSRF || found.Company.ID != s.User.CompanyID {
				t.Fatalf("Find: %+v, %v", found, err)
			}
			// The store holds the cookie's hash only.
			e.db.View(context.Background(), func(tx store.Tx) error {
				rec, err := tx.LoginSession(store.TokenHash(s.Cookie))
				b, _ := json.Marshal(rec)
				if err != nil || strings.Contains(string(b), s.Cookie) {
					t.Errorf("stored login %s, %v", b, err)
				}
				return nil
			})
		})
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s, err := e.svc.Login(ctx, "192.0.2.1", "dana@acme.example", "", pw)
	if err != nil {
		t.Fatal(err)
	}
	// Used every 50 minutes it lives on, up to 12 hours.
	for i := 1; i < 14; i++ {
		e.clk.Advance(50 * time.Minute)
		_, err := e.svc.Find(ctx, s.Cookie)
		alive := time.Duration(i)*50*time.Minute < 12*time.Hour
		if (err == nil) != alive {
			t.Fatalf("after %v of use: %v (want alive %v)", time.Duration(i)*50*time.Minute, err, alive)
		}
	}
	// Unused for an hour it ends.
	s, _ = e.svc.Login(ctx, "192.0.2.1", "dana@acme.example", "", pw)
	e.clk.Advance(time.Hour)
	if _, err := e.svc.Find(ctx, s.Cookie); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after an idle hour: %v", err)
	}
	// Logged out it ends.
	s, _ = e.svc.Login(ctx, "192.0.2.1", "dana@acme.example", "", pw)
	if err := e.svc.Logout(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Find(ctx, s.Cookie); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after logout: %v", err)
	}
	for _, c := range []string{"", "nope", strings.Repeat("a", 100)} {
		if _, err := e.svc.Find(ctx, c); !errors.Is(err, ErrNoSession) {
			t.Fatalf("cookie %q: %v", c, err)
		}
	}
}

func TestPermissionsFollowTheRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s, err := e.svc.Login(ctx, "192.0.2.1", "pat@acme.example", "", pw)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Perms.Has(DashboardAccess) || s.Perms.Has(DevicesAdd) {
		t.Fatalf("perms at login %+v", s.Perms)
	}
	e.db.Update(ctx, func(tx store.Tx) error {
		return tx.PutRole(store.Role{CompanyID: "1111", ID: "r1", Permissions: []string{"mobile_devices.add"}})
	})
	got, _ := e.svc.Find(ctx, s.Cookie)
	if got.Perms.Has(DashboardAccess) || !got.Perms.Has(DevicesAdd) {
		t.Fatalf("perms after the role changed %+v", got.Perms)
	}
}

func TestWrongLoginsRateLimited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 5 {
		if _, err := e.svc.Login(ctx, "192.0.2.1", "dana@acme.example", "", "guess"+string(rune('a'+i))); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	var rl *RateLimitedError
	if _, err := e.svc.Login(ctx, "192.0.2.9", "dana@acme.example", "", pw); !errors.As(err, &rl) || rl.RetryAfter <= 0 {
		t.Fatalf("sixth login of the account, right password, other address: %v", err)
	}
	e.clk.Advance(time.Minute)
	if _, err := e.svc.Login(ctx, "192.0.2.9", "dana@acme.example", "", pw); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
	// One address trying many accounts.
	for i := range 10 {
		e.svc.Login(ctx, "192.0.2.7", "user"+string(rune('a'+i))+"@acme.example", "", "guess")
	}
	if _, err := e.svc.Login(ctx, "192.0.2.7", "pat@acme.example", "", pw); !errors.As(err, &rl) {
		t.Fatalf("after 10 wrong logins from one address: %v", err)
	}
}

func TestHashPasswordRules(t *testing.T) {
	for _, p := range []string{"short", strings.Repeat("x", 73)} {
		if _, err := HashPassword(p, bcrypt.MinCost); err == nil {
			t.Errorf("%d-byte password hashed", len(p))
		}
	}
	h, err := HashPassword(pw, bcrypt.MinCost)
	if err != nil || !strings.HasPrefix(h, "$2a$") || strings.Contains(h, pw) {
		t.Fatalf("hash %q, %v", h, err)
	}
}
