package web

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"timeclock/clock"
	"timeclock/cloud/access"
	"timeclock/cloud/mobile"
	"timeclock/cloud/notify"
	"timeclock/cloud/releases"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/internal/syncbuf"
	"timeclock/release"
	"timeclock/wire"
)

// t0 is a Tuesday afternoon in Chicago.
var t0 = time.Date(2026, 3, 3, 21, 30, 0, 0, time.UTC)

const (
	company  = "482913"
	password = "correct horse battery"
	admin    = "dana@acme.example"
	payroll  = "pat@acme.example" // role Payroll: Dashboard Access, Mobile Devices View
	nobody   = "sam@acme.example" // no role
	clockID  = "3f9a2c7e41b0d5e8"
)

// clockDisabler stands in for the sync registry in this package's tests:
// it records the call and, as the registry does, puts the clock on the
// disabled list waiting for its last transmission.
type clockDisabler struct {
	db    store.Store
	clk   clock.Clock
	mu    sync.Mutex
	calls []string
}

func (c *clockDisabler) Disable(ctx context.Context, companyID, id, by string) error {
	c.mu.Lock()
	c.calls = append(c.calls, companyID+"/"+id+"/"+by)
	c.mu.Unlock()
	return c.db.Update(ctx, func(tx store.Tx) error {
		d, err := tx.Device(id)
		if err != nil {
			return err
		}
		d.Status, d.DisabledAt, d.DisabledBy = store.DeviceDisabling, c.clk.Now().UTC(), by
		return tx.PutDevice(d)
	})
}

// Rename records the call and, as the registry does, sets the nickname
// at once.
func (c *clockDisabler) Rename(ctx context.Context, companyID, id, nickname, by string) error {
	c.mu.Lock()
	c.calls = append(c.calls, "rename "+companyID+"/"+id+"/"+nickname+"/"+by)
	c.mu.Unlock()
	return c.db.Update(ctx, func(tx store.Tx) error {
		d, err := tx.Device(id)
		if err != nil {
			return err
		}
		d.Nickname = nickname
		return tx.PutDevice(d)
	})
}

// Enable records the call and, as the registry does, marks a disabled
// clock enabled again.
// DeleteBiometrics records the call, as the registry would send it.
func (c *clockDisabler) DeleteBiometrics(ctx context.Context, companyID, employee, by string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "delete biometrics "+employee+" by "+by)
	return 1, nil
}

func (c *clockDisabler) Enable(ctx context.Context, companyID, id, by string) error {
	c.mu.Lock()
	c.calls = append(c.calls, "enable "+companyID+"/"+id+"/"+by)
	c.mu.Unlock()
	return c.db.Update(ctx, func(tx store.Tx) error {
		d, err := tx.Device(id)
		if err != nil {
			return err
		}
		if d.Status != store.DeviceDisabled {
			return errors.New("not disabled")
		}
		d.EnabledAt, d.EnabledBy = c.clk.Now().UTC(), by
		return tx.PutDevice(d)
	})
}

func (c *clockDisabler) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

// provider is a fake SMS provider's HTTP API.
type provider struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []notify.SMSRequest
}

func (p *provider) all() []notify.SMSRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]notify.SMSRequest(nil), p.msgs...)
}

type env struct {
	t      testing.TB
	srv    *httptest.Server
	db     *boltstore.DB
	clk    *clock.Fake
	mob    *mobile.Service
	clocks *clockDisabler
	sms    *provider
	outbox string
	log    *syncbuf.Buffer
	// releases is the update store the Updates page works on.
	releases *releases.Store
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := boltstore.Open(filepath.Join(dir, "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, db: db, clk: clock.NewFake(t0), log: &syncbuf.Buffer{}}
	log := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hash, err := access.HashPassword(password, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(context.Background(), func(tx store.Tx) error {
		for _, f := range []func() error{
			func() error {
				return tx.PutCompany(store.Company{ID: company, Name: "Acme Builders", Timezone: "America/Chicago"})
			},
			func() error {
				return tx.PutUser(store.User{CompanyID: company, Email: admin, Name: "Dana Admin", Administrator: true, PasswordHash: hash})
			},
			func() error {
				return tx.PutUser(store.User{CompanyID: company, Email: payroll, Name: "Pat Payroll", RoleID: "payroll", PasswordHash: hash})
			},
			func() error {
				return tx.PutUser(store.User{CompanyID: company, Email: nobody, Name: "Sam Nobody", PasswordHash: hash})
			},
			func() error {
				return tx.PutRole(store.Role{CompanyID: company, ID: "payroll", Name: "Payroll",
					Permissions: []string{"dashboard.access", "mobile_devices.view"}, CreatedAt: t0})
			},
			func() error {
				return tx.PutDevice(store.Device{ID: clockID, CompanyID: company, Serial: "BN65-000042", Model: "BN6500",
					Firmware: "1.2.0", Nickname: "Yard gate", Status: store.DeviceApproved, ActivatedAt: t0.Add(-48 * time.Hour),
					LastCheckedIn: t0.Add(-3 * time.Minute), LastUsedBy: "Bob Builder", ClockSource: "rtc-unverified", ClockOffsetMS: offsetMS(-95_000),
					Storage: "storage damaged at 2026-03-03T21:00:00Z: one of the two meta pages is damaged; 52 records salvaged, 0 unreadable"})
			},
			func() error {
				return tx.PutDevice(store.Device{ID: "77aa00bb11cc22dd", CompanyID: company, Serial: "JR20-000007", Model: "JR2000",
					Firmware: "1.1.0", Nickname: "Old office", Status: store.DeviceDisabled, ActivatedAt: t0.Add(-900 * time.Hour),
					LastCheckedIn: t0.Add(-300 * time.Hour), DisabledAt: t0.Add(-299 * time.Hour), DisabledBy: admin})
			},
		} {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.mob = mobile.New(mobile.DefaultConfig(), mobile.Deps{Store: db, Clock: e.clk, Log: log})
	e.clocks = &clockDisabler{db: db, clk: e.clk}

	e.sms = &provider{}
	e.sms.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m notify.SMSRequest
		json.NewDecoder(r.Body).Decode(&m)
		e.sms.mu.Lock()
		e.sms.msgs = append(e.sms.msgs, m)
		e.sms.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(e.sms.srv.Close)
	hp, err := notify.NewSMSProvider(notify.SMSConfig{URL: e.sms.srv.URL + "/messages", Token: "provider-secret"})
	if err != nil {
		t.Fatal(err)
	}
	e.outbox = filepath.Join(dir, "sms-outbox")
	ob, err := notify.NewSMSOutbox(e.outbox, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	lcfg := access.DefaultLoginConfig()
	lcfg.BcryptCost = bcrypt.MinCost
	logins, err := access.NewLogins(lcfg, db, e.clk, log)
	if err != nil {
		t.Fatal(err)
	}
	e.releases, err = releases.Open(filepath.Join(dir, "releases"), []ed25519.PublicKey{release.DevKey().Public().(ed25519.PublicKey)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(DefaultConfig(), Deps{
		Logins: logins, Store: db, SetupCodes: e.mob, SMS: notify.SMSTee{hp, ob}, Clock: e.clk, Log: log, Releases: e.releases,
		Devices: &Fleet{Store: db, Clocks: e.clocks, Phones: e.mob, Renamer: e.clocks, Enabler: e.clocks, Biometrics: e.clocks},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(Prefix, h)
	e.srv = httptest.NewTLSServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// enrollPhone adds a copy of the mobile app with this week's code.
func (e *env) enrollPhone(platform, name, installID string) wire.EnrollResponse {
	e.t.Helper()
	c, err := e.mob.SetupCode(context.Background(), company)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.mob.Enroll(context.Background(), "192.0.2.5", wire.EnrollRequest{SetupCode: c.Code,
		Device: wire.MobileDevice{Platform: platform, AppVersion: "3.2.1", Name: name, InstallID: installID}})
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func (e *env) setupCode() string {
	e.t.Helper()
	c, err := e.mob.SetupCode(context.Background(), company)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.Code
}

// user is a browser-like HTTP client: a cookie jar, no redirects followed.
type user struct {
	e  *env
	c  *http.Client
	ip string
}

func (e *env) newUser() *user {
	jar, _ := cookiejar.New(nil)
	c := e.srv.Client()
	c = &http.Client{Transport: c.Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.t.Cleanup(c.CloseIdleConnections)
	return &user{e: e, c: c}
}

type page struct {
	status int
	body   string
	loc    string
	resp   *http.Response
}

func (u *user) do(method, path string, form url.Values, hdr ...string) page {
	u.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u.e.srv.URL+path, body)
	if err != nil {
		u.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := u.c.Do(req)
	if err != nil {
		u.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(b), loc: resp.Header.Get("Location"), resp: resp}
}

func (u *user) get(path string) page { return u.do("GET", path, nil) }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token in a page's forms.
func csrfOf(t testing.TB, p page) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF field in the page (%d):\n%s", p.status, p.body)
	}
	return m[1]
}

// post submits a form with the token of the page at from.
func (u *user) post(from, path string, form url.Values) page {
	u.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrfOf(u.e.t, u.get(from)))
	return u.do("POST", path, form)
}

func (u *user) login(email string) *user {
	u.e.t.Helper()
	p := u.do("POST", "/admin/login", url.Values{"email": {email}, "password": {password}, "csrf": {csrfOf(u.e.t, u.get("/admin/login"))}})
	if p.status != http.StatusSeeOther {
		u.e.t.Fatalf("login %s: %d\n%s", email, p.status, p.body)
	}
	return u
}

func offsetMS(v int64) *int64 { return &v }
