package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"timeclock/cloud/access"
	"timeclock/cloud/store"
)

// route is every page and form under /admin/ that needs a login.
type route struct {
	method, path string
	perm         access.Permission
}

func routes() []route {
	return []route{
		{"GET", "/admin/dashboard", access.DashboardAccess},
		{"GET", "/admin/mobile-devices", access.DevicesView},
		{"GET", "/admin/punches", access.DevicesView},
		{"GET", "/admin/mobile-devices/add", access.DevicesAdd},
		{"POST", "/admin/mobile-devices/add", access.DevicesAdd},
		{"GET", "/admin/mobile-devices/" + clockID + "/rename", access.DevicesEdit},
		{"POST", "/admin/mobile-devices/" + clockID + "/rename", access.DevicesEdit},
		{"POST", "/admin/mobile-devices/77aa00bb11cc22dd/enable", access.DevicesDisable},
		{"GET", "/admin/mobile-devices/" + clockID + "/disable", access.DevicesDisable},
		{"POST", "/admin/mobile-devices/" + clockID + "/disable", access.DevicesDisable},
		{"GET", "/admin/users", access.UsersManage},
		{"POST", "/admin/users", access.UsersManage},
		{"POST", "/admin/users/password", access.UsersManage},
		{"POST", "/admin/users/remove", access.UsersManage},
		{"GET", "/admin/security-roles", access.RolesManage},
		{"POST", "/admin/security-roles", access.RolesManage},
		{"POST", "/admin/security-roles/users", access.RolesManage},
		{"GET", "/admin/security-roles/payroll", access.RolesManage},
		{"POST", "/admin/security-roles/payroll", access.RolesManage},
		{"POST", "/admin/security-roles/payroll/delete", access.RolesManage},
	}
}

// setRole gives sam exactly these permissions (none: no role at all).
func (e *env) setRole(perms ...access.Permission) {
	e.t.Helper()
	err := e.db.Update(context.Background(), func(tx store.Tx) error {
		u, err := tx.User(company, nobody)
		if err != nil {
			return err
		}
		u.RoleID = ""
		if len(perms) > 0 {
			u.RoleID = "only"
			if err := tx.PutRole(store.Role{CompanyID: company, ID: "only", Name: "Only", Permissions: access.PermissionNames(perms)}); err != nil {
				return err
			}
		}
		return tx.PutUser(u)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// Every page and form checks its permission: refused (403, saying which
// permission) without it, past the check with only it; a logged-out
// visitor is sent to the login page.
func TestEveryPageChecksItsPermission(t *testing.T) {
	e := newEnv(t)
	sam := e.newUser().login(nobody)
	anon := e.newUser()
	// A page sam can always reach (a 404 has the menu's logout form), for
	// a valid CSRF token on POSTs.
	tok := func() string { return csrfOf(t, sam.get("/admin/nowhere")) }
	for _, rt := range routes() {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			var form url.Values
			if rt.method == "POST" {
				form = url.Values{"csrf": {tok()}}
			}
			p := anon.do(rt.method, rt.path, form)
			if p.status != http.StatusSeeOther || !strings.HasPrefix(p.loc, "/admin/login") {
				t.Errorf("logged out: %d -> %q, want 303 to the login page", p.status, p.loc)
			}

			others := []access.Permission{}
			for _, p := range access.AllPermissions() {
				if p != rt.perm {
					others = append(others, p)
				}
			}
			e.setRole(others...)
			p = sam.do(rt.method, rt.path, form)
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "You do not have permission") ||
				!strings.Contains(p.body, rt.perm.Label()) {
				t.Errorf("with every permission but %s: %d\n%s", rt.perm, p.status, p.body)
			}

			e.setRole(rt.perm)
			p = sam.do(rt.method, rt.path, form)
			if p.status == http.StatusForbidden || p.status == http.StatusSeeOther && strings.HasPrefix(p.loc, "/admin/login") {
				t.Errorf("with %s: %d -> %q\n%s", rt.perm, p.status, p.loc, p.body)
			}
		})
	}
}

func TestNoPermissionsAtAll(t *testing.T) {
	e := newEnv(t)
	sam := e.newUser().login(nobody)
	p := sam.get("/admin/")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "no permissions yet") {
		t.Fatalf("start page of a user with no role: %d\n%s", p.status, p.body)
	}
	// The menu offers nothing it would refuse.
	for _, s := range []string{">Dashboard<", ">Mobile Devices<", ">Security Roles<"} {
		if strings.Contains(p.body, s) {
			t.Errorf("menu shows %s", s)
		}
	}
}

// Every form refuses a POST without its CSRF token, or with another
// session's, and changes nothing.
func TestFormsWithoutCSRFTokenAreRefused(t *testing.T) {
	e := newEnv(t)
	dana := e.newUser().login(admin)
	other := e.newUser().login(admin)
	otherTok := csrfOf(t, other.get("/admin/dashboard"))
	forms := []struct {
		path string
		form url.Values
	}{
		{"/admin/mobile-devices/" + clockID + "/disable", url.Values{}},
		{"/admin/mobile-devices/" + clockID + "/rename", url.Values{"nickname": {"Loading dock"}}},
		{"/admin/mobile-devices/77aa00bb11cc22dd/enable", url.Values{}},
		{"/admin/users", url.Values{"name": {"Chris"}, "email": {"chris@acme.example"}, "password": {"a long password"}}},
		{"/admin/users/password", url.Values{"email": {payroll}, "password": {"a long password"}}},
		{"/admin/users/remove", url.Values{"email": {nobody}}},
		{"/admin/mobile-devices/add", url.Values{"phone": {"(415) 555-2671"}}},
		{"/admin/security-roles", url.Values{"name": {"Foremen"}}},
		{"/admin/security-roles/payroll", url.Values{"perm": {"mobile_devices.add"}}},
		{"/admin/security-roles/payroll/delete", url.Values{}},
		{"/admin/security-roles/users", url.Values{"role:" + nobody: {"payroll"}}},
		{"/admin/logout", url.Values{}},
	}
	for _, f := range forms {
		for _, tc := range []struct {
			name, tok string
		}{{"no token", ""}, {"another session's token", otherTok}, {"garbage", "x"}} {
			t.Run(f.path+" "+tc.name, func(t *testing.T) {
				form := url.Values{}
				for k, v := range f.form {
					form[k] = v
				}
				if tc.tok != "" {
					form.Set("csrf", tc.tok)
				}
				p := dana.do("POST", f.path, form)
				if p.status != http.StatusForbidden || !strings.Contains(p.body, "Security check failed") {
					t.Fatalf("%d\n%s", p.status, p.body)
				}
			})
		}
	}
	// Nothing happened: the clock is approved, no text went out, the role
	// is as it was, and dana is still logged in.
	if calls := e.clocks.all(); len(calls) != 0 {
		t.Errorf("disable ran: %v", calls)
	}
	if len(e.sms.all()) != 0 {
		t.Error("a text was sent")
	}
	e.db.View(context.Background(), func(tx store.Tx) error {
		r, err := tx.Role(company, "payroll")
		if err != nil || len(r.Permissions) != 2 {
			t.Errorf("payroll role %+v, %v", r, err)
		}
		rs, _ := tx.Roles(company)
		if len(rs) != 1 {
			t.Errorf("roles %+v", rs)
		}
		return nil
	})
	if p := dana.get("/admin/dashboard"); p.status != http.StatusOK {
		t.Errorf("after the refused logout: %d", p.status)
	}
}

func TestLoginFormNeedsItsToken(t *testing.T) {
	e := newEnv(t)
	u := e.newUser()
	u.get("/admin/login") // sets the login cookie
	p := u.do("POST", "/admin/login", url.Values{"email": {admin}, "password": {password}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "Security check failed") {
		t.Fatalf("login without its token: %d\n%s", p.status, p.body)
	}
	// Another visitor's token does not fit this visitor's cookie.
	tok := csrfOf(t, e.newUser().get("/admin/login"))
	p = u.do("POST", "/admin/login", url.Values{"email": {admin}, "password": {password}, "csrf": {tok}})
	if p.status != http.StatusForbidden {
		t.Fatalf("login with another visitor's token: %d", p.status)
	}
}

// A browser's cross-site POST is refused even with a valid token.
func TestCrossSitePostRefused(t *testing.T) {
	e := newEnv(t)
	dana := e.newUser().login(admin)
	tok := csrfOf(t, dana.get("/admin/mobile-devices"))
	p := dana.do("POST", "/admin/mobile-devices/"+clockID+"/disable", url.Values{"csrf": {tok}}, "Sec-Fetch-Site", "cross-site")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "another site") {
		t.Fatalf("cross-site POST: %d\n%s", p.status, p.body)
	}
	if len(e.clocks.all()) != 0 {
		t.Fatal("the clock was disabled")
	}
}
