package web

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/cloud/access"
	"timeclock/cloud/store"
)

func TestLoginAndLogout(t *testing.T) {
	e := newEnv(t)
	u := e.newUser()
	tok := csrfOf(t, u.get("/admin/login"))
	p := u.do("POST", "/admin/login", url.Values{"email": {admin}, "password": {"wrong password!"}, "csrf": {tok}})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "The email or password is not right") {
		t.Fatalf("wrong password: %d\n%s", p.status, p.body)
	}
	if strings.Contains(p.body, "wrong password!") {
		t.Fatal("the typed password is echoed back")
	}
	p = u.do("POST", "/admin/login", url.Values{"email": {admin}, "password": {password}, "csrf": {tok},
		"next": {"/admin/mobile-devices"}})
	if p.status != http.StatusSeeOther || p.loc != "/admin/mobile-devices" {
		t.Fatalf("login: %d -> %q", p.status, p.loc)
	}
	var sc *http.Cookie
	for _, c := range p.resp.Cookies() {
		if c.Name == sessionCookie {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Domain != "" || len(sc.Value) != 43 {
		t.Fatalf("session cookie %+v", sc)
	}
	if p := u.get("/admin/dashboard"); p.status != http.StatusOK || !strings.Contains(p.body, "Mobile Device Management") {
		t.Fatalf("dashboard: %d", p.status)
	}
	p = u.post("/admin/dashboard", "/admin/logout", nil)
	if p.status != http.StatusSeeOther || p.loc != "/admin/login?bye=1" {
		t.Fatalf("logout: %d -> %q", p.status, p.loc)
	}
	// The old cookie is dead on the server, not just forgotten by the browser.
	replay := e.newUser()
	replay.c.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{{Name: sessionCookie, Value: sc.Value}})
	if p := replay.get("/admin/dashboard"); p.status != http.StatusSeeOther {
		t.Fatalf("the logged-out cookie still works: %d", p.status)
	}
	if strings.Contains(e.log.String(), password) || strings.Contains(e.log.String(), sc.Value) {
		t.Fatal("a password or session cookie is in the log")
	}
	// An outside next= is not followed.
	p = e.newUser().do("POST", "/admin/login", url.Values{"email": {admin}, "password": {password},
		"csrf": {tok}, "next": {"https://evil.example/"}})
	_ = p
	v := e.newUser()
	tok = csrfOf(t, v.get("/admin/login"))
	p = v.do("POST", "/admin/login", url.Values{"email": {admin}, "password": {password}, "csrf": {tok}, "next": {"//evil.example/admin/"}})
	if p.loc != "/admin/dashboard" {
		t.Fatalf("next=//evil.example: redirected to %q", p.loc)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestDashboardShowsSetupCodeAndChange(t *testing.T) {
	e := newEnv(t)
	code := e.setupCode()
	p := e.newUser().login(admin).get("/admin/dashboard")
	for _, want := range []string{"Mobile Device Management", "Company Setup Code", code,
		"This code will change on <strong>Tuesday, March 10, 2026 at 12:00 AM CDT</strong>",
		"1 approved device", "1 disabled device"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}

// Non-administrators do not see the setup code until their role has Add
// on Manage Mobile Devices.
func TestSetupCodeNeedsAdd(t *testing.T) {
	e := newEnv(t)
	code := e.setupCode()
	pat := e.newUser().login(payroll)
	for _, path := range []string{"/admin/dashboard", "/admin/mobile-devices"} {
		p := pat.get(path)
		if p.status != http.StatusOK || strings.Contains(p.body, code) || !strings.Contains(p.body, "You do not have permission to view the company setup code") {
			t.Errorf("%s without Add: %d, code shown %v", path, p.status, strings.Contains(p.body, code))
		}
		if strings.Contains(p.body, "Add a Mobile Device") {
			t.Errorf("%s offers Add a Mobile Device without Add", path)
		}
	}
	dana := e.newUser().login(admin)
	p := dana.post("/admin/security-roles/payroll", "/admin/security-roles/payroll",
		url.Values{"perm": {"dashboard.access", "mobile_devices.view", "mobile_devices.add"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("granting Add: %d\n%s", p.status, p.body)
	}
	for _, path := range []string{"/admin/dashboard", "/admin/mobile-devices"} {
		if p := pat.get(path); !strings.Contains(p.body, code) {
			t.Errorf("%s with Add: the code is not shown", path)
		}
	}
}

func TestMobileDevicesPage(t *testing.T) {
	e := newEnv(t)
	e.enrollPhone("ios", "Dana's iPhone", "ios-install-1")
	e.enrollPhone("android", "Pixel 8", "android-install-1")
	p := e.newUser().login(admin).get("/admin/mobile-devices")
	approved := p.body[strings.Index(p.body, "Approved Devices"):strings.Index(p.body, "Disabled Devices")]
	disabled := p.body[strings.Index(p.body, "Disabled Devices"):]
	for _, want := range []string{
		"<th>Nickname</th><th>Last Used By</th><th>Type</th><th>Version</th><th>Update</th><th>ID</th><th>Last Checked In</th><th>Status</th><th>Pending</th><th>Oldest Pending</th><th>Action</th>",
		"Yard gate", "Bob Builder", "BN6500", "1.2.0", clockID, "Mar 3, 2026 3:27 PM CST",
		"Dana&#39;s iPhone", "iPhone (iOS)", "Pixel 8", "Android", "3.2.1", ">Disable<",
		"Clock off by -1m35s (rtc-unverified): check its time",
		"Storage damaged, call service: storage damaged at 2026-03-03T21:00:00Z: one of the two meta pages is damaged; 52 records salvaged, 0 unreadable",
	} {
		if !strings.Contains(approved, want) {
			t.Errorf("Approved Devices lacks %q", want)
		}
	}
	for _, want := range []string{
		"<th>Disabled Date</th><th>Disabled By</th>", "Old office", "JR2000", "Feb 19, 2026 4:30 AM CST", "Dana Admin",
	} {
		if !strings.Contains(disabled, want) {
			t.Errorf("Disabled Devices lacks %q", want)
		}
	}
	for _, want := range []string{"Add a Mobile Device", "Refresh Approved Mobile Devices", "Company Setup Code"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestDisableWithConfirmation(t *testing.T) {
	e := newEnv(t)
	phone := e.enrollPhone("android", "Pixel 8", "android-install-1")
	dana := e.newUser().login(admin)
	for _, tc := range []struct{ id, name, note string }{
		{clockID, "Yard gate", "Disabled by administrator"},
		{phone.ID, "Pixel 8", "This copy of the mobile app"},
	} {
		confirm := dana.get("/admin/mobile-devices/" + tc.id + "/disable")
		if confirm.status != http.StatusOK || !strings.Contains(confirm.body, "Disable "+tc.name+"?") ||
			!strings.Contains(confirm.body, "one last transmission") || !strings.Contains(confirm.body, tc.note) {
			t.Fatalf("confirm page: %d\n%s", confirm.status, confirm.body)
		}
		e.clk.Advance(time.Minute)
		p := dana.post("/admin/mobile-devices/"+tc.id+"/disable", "/admin/mobile-devices/"+tc.id+"/disable", nil)
		if p.status != http.StatusSeeOther || p.loc != "/admin/mobile-devices?disabled="+tc.id {
			t.Fatalf("disable: %d -> %q", p.status, p.loc)
		}
		list := dana.get(p.loc)
		disabled := list.body[strings.Index(list.body, "Disabled Devices"):]
		if !strings.Contains(list.body, tc.name+" ("+tc.id+") is disabled.") || !strings.Contains(disabled, tc.id) {
			t.Fatalf("after disabling %s:\n%s", tc.name, list.body)
		}
		// Confirming again (a second tab) changes nothing and says so.
		if p := dana.get("/admin/mobile-devices/" + tc.id + "/disable"); p.status != http.StatusSeeOther {
			t.Errorf("confirm page of a disabled device: %d", p.status)
		}
	}
	if calls := e.clocks.all(); len(calls) != 1 || calls[0] != company+"/"+clockID+"/"+admin {
		t.Errorf("clock disables: %v", calls)
	}
	e.db.View(context.Background(), func(tx store.Tx) error {
		m, _ := tx.MobileInstall(phone.ID)
		if m.Status != store.DeviceDisabled || m.DisabledBy != admin {
			t.Errorf("phone %+v", m)
		}
		return nil
	})
	if p := dana.get("/admin/mobile-devices/ffffffffffffffff/disable"); p.status != http.StatusNotFound {
		t.Errorf("unknown device: %d", p.status)
	}
}

func TestAddMobileDeviceSendsSMS(t *testing.T) {
	e := newEnv(t)
	code := e.setupCode()
	dana := e.newUser().login(admin)
	for _, tc := range []struct {
		name, phone string
		status      int
		want        string
	}{
		{"empty", "", http.StatusBadRequest, "Enter a mobile phone number."},
		{"malformed", "415-555", http.StatusBadRequest, "Not a valid phone number"},
		{"letters", "call me", http.StatusBadRequest, "Not a valid phone number"},
		{"United Kingdom", "+44 20 7183 8750", http.StatusBadRequest, "SMS in USA only: to receive an SMS message, the employee must have a valid US-based mobile phone number."},
		{"Canada (+1, not US)", "+1 416 555 0123", http.StatusBadRequest, "SMS in USA only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := dana.post("/admin/mobile-devices/add", "/admin/mobile-devices/add", url.Values{"phone": {tc.phone}})
			if p.status != tc.status || !strings.Contains(p.body, `id="sms-error">`+tc.want) {
				t.Fatalf("%d\n%s", p.status, p.body)
			}
			if tc.phone != "" && !strings.Contains(p.body, `value="`+strings.ReplaceAll(tc.phone, "+", "&#43;")+`"`) {
				t.Errorf("the typed number is lost:\n%s", p.body)
			}
		})
	}
	if n := len(e.sms.all()); n != 0 {
		t.Fatalf("%d texts sent for refused numbers", n)
	}
	p := dana.post("/admin/mobile-devices/add", "/admin/mobile-devices/add", url.Values{"phone": {"(415) 555-2671"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("US mobile: %d\n%s", p.status, p.body)
	}
	if list := dana.get(p.loc); !strings.Contains(list.body, "The company setup code was sent by text message to (415) 555-2671.") {
		t.Error("no notice that the text was sent")
	}
	msgs := e.sms.all()
	want := "Acme Builders: your company setup code for the Timeclock mobile app is " + code + ". It works until Tue Mar 10, 12:00 AM CDT, when it changes."
	if len(msgs) != 1 || msgs[0].To != "+14155552671" || msgs[0].Body != want {
		t.Fatalf("provider got %+v\nwant body %q", msgs, want)
	}
	files, _ := filepath.Glob(filepath.Join(e.outbox, "*14155552671*.txt"))
	if len(files) != 1 {
		t.Fatalf("outbox files %v", files)
	}
	if b, _ := os.ReadFile(files[0]); !strings.Contains(string(b), code) {
		t.Errorf("outbox file:\n%s", b)
	}
	if strings.Contains(e.log.String(), "provider-secret") || strings.Contains(e.log.String(), "4155552671") {
		t.Error("the provider token or the full number is in the log")
	}
}

func TestSecurityRolesPage(t *testing.T) {
	e := newEnv(t)
	dana := e.newUser().login(admin)
	p := dana.post("/admin/security-roles", "/admin/security-roles", url.Values{"name": {"  Field   Foremen "}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.loc, "/admin/security-roles/") {
		t.Fatalf("create: %d -> %q\n%s", p.status, p.loc, p.body)
	}
	rolePage := strings.TrimSuffix(p.loc, "?done=created")
	id := strings.TrimPrefix(rolePage, "/admin/security-roles/")
	if pg := dana.get(p.loc); !strings.Contains(pg.body, "Permissions of Field Foremen") || !strings.Contains(pg.body, "The role was created") {
		t.Fatalf("role page:\n%s", pg.body)
	}
	for _, tc := range []struct{ name, want string }{
		{"", "Enter a name"}, {"field foremen", "already exists"}, {"Administrator", "built-in"}, {strings.Repeat("x", 41), "at most 40"},
	} {
		p := dana.post("/admin/security-roles", "/admin/security-roles", url.Values{"name": {tc.name}})
		if p.status/100 != 4 || !strings.Contains(p.body, tc.want) {
			t.Errorf("name %q: %d, want a message with %q", tc.name, p.status, tc.want)
		}
	}
	p = dana.post(rolePage, rolePage, url.Values{"perm": {"dashboard.access", "mobile_devices.add", "root.everything"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save: %d", p.status)
	}
	p = dana.post("/admin/security-roles", "/admin/security-roles/users", url.Values{
		"role:" + nobody: {id}, "role:" + admin: {id}, "role:" + payroll: {"payroll"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("assign: %d\n%s", p.status, p.body)
	}
	e.db.View(context.Background(), func(tx store.Tx) error {
		r, _ := tx.Role(company, id)
		if strings.Join(r.Permissions, ",") != "dashboard.access,mobile_devices.add" {
			t.Errorf("permissions %v", r.Permissions)
		}
		sam, _ := tx.User(company, nobody)
		dana, _ := tx.User(company, admin)
		if sam.RoleID != id || dana.RoleID != "" || !dana.Administrator {
			t.Errorf("sam's role %q, dana's %q (administrators keep their profile)", sam.RoleID, dana.RoleID)
		}
		return nil
	})
	sam := e.newUser().login(nobody)
	if pg := sam.get("/admin/dashboard"); !strings.Contains(pg.body, e.setupCode()) {
		t.Error("sam, granted Access and Add, does not see the code")
	}
	p = dana.post(rolePage, rolePage+"/delete", nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.status)
	}
	if pg := sam.get("/admin/dashboard"); pg.status != http.StatusForbidden {
		t.Errorf("sam after the role was deleted: %d", pg.status)
	}
	if pg := dana.get(rolePage); pg.status != http.StatusNotFound {
		t.Errorf("deleted role's page: %d", pg.status)
	}
}

// A role with Add but not View texts the code and stays on the add page:
// the device list is not theirs to see.
func TestAddWithoutView(t *testing.T) {
	e := newEnv(t)
	e.setRole(access.DevicesAdd)
	sam := e.newUser().login(nobody)
	p := sam.post("/admin/mobile-devices/add", "/admin/mobile-devices/add", url.Values{"phone": {"415 555 2671"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.loc, "/admin/mobile-devices/add?") {
		t.Fatalf("send: %d -> %q", p.status, p.loc)
	}
	pg := sam.get(p.loc)
	if pg.status != http.StatusOK || !strings.Contains(pg.body, "sent by text message to (415) 555-2671") || !strings.Contains(pg.body, `href="/admin/">Cancel`) {
		t.Fatalf("after sending: %d\n%s", pg.status, pg.body)
	}
	if len(e.sms.all()) != 1 {
		t.Fatal("no text sent")
	}
}

// The company's last administrator cannot be removed (the clocks' codes go
// to administrators only), even by a user whose role manages users.
func TestLastAdministratorStays(t *testing.T) {
	e := newEnv(t)
	e.setRole(access.UsersManage)
	sam := e.newUser().login(nobody)
	tok := csrfOf(t, sam.get("/admin/users"))
	p := sam.do("POST", "/admin/users/remove", url.Values{"csrf": {tok}, "email": {admin}, "confirm": {"yes"}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "last administrator") {
		t.Fatalf("removing the last administrator: %d\n%s", p.status, p.body)
	}
	e.db.View(context.Background(), func(tx store.Tx) error {
		if _, err := tx.User(company, admin); err != nil {
			t.Errorf("the administrator is gone: %v", err)
		}
		return nil
	})
}

// Remove asks first: the first post shows who would be removed and removes
// nobody; only the confirmed post removes.
func TestRemoveUserAsksFirst(t *testing.T) {
	e := newEnv(t)
	dana := e.newUser().login(admin)
	tok := csrfOf(t, dana.get("/admin/users"))
	p := dana.do("POST", "/admin/users/remove", url.Values{"csrf": {tok}, "email": {nobody}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="confirm-remove"`) || !strings.Contains(p.body, nobody) {
		t.Fatalf("first post: %d\n%s", p.status, p.body)
	}
	present := func() bool {
		var err error
		e.db.View(context.Background(), func(tx store.Tx) error { _, err = tx.User(company, nobody); return nil })
		return err == nil
	}
	if !present() {
		t.Fatal("removed without confirmation")
	}
	dana.do("POST", "/admin/users/remove", url.Values{"csrf": {tok}, "email": {nobody}, "confirm": {"yes"}})
	if present() {
		t.Fatal("still there after the confirmed removal")
	}
}
