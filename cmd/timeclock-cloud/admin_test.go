package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"timeclock/wire"
)

var (
	adminLoginRE = regexp.MustCompile(`(?m)^admin login: (\S+) / (\S+)$`)
	userLoginRE  = regexp.MustCompile(`(?m)^user login: (\S+) / (\S+) \(not an administrator; security role Payroll\)$`)
	adminPagesRE = regexp.MustCompile(`(?m)^admin pages: (https://localhost:\d+/admin/) `)
	csrfFieldRE  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// browse logs in to the admin pages of a running dev cloud as a browser
// would (cookies, the login form's token) and returns the Dashboard.
func (c *proc) browse(pages, email, password string) (*http.Client, string) {
	c.t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Transport: c.client.Transport, Jar: jar, Timeout: 30 * time.Second}
	get := func(u string) string {
		resp, err := cl.Get(u)
		if err != nil {
			c.t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	m := csrfFieldRE.FindStringSubmatch(get(pages + "login"))
	if m == nil {
		c.t.Fatal("no login form")
	}
	resp, err := cl.PostForm(pages+"login", url.Values{"email": {email}, "password": {password}, "csrf": {m[1]}})
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/admin/dashboard" {
		c.t.Fatalf("login as %s ended on %s:\n%s", email, resp.Request.URL, b)
	}
	return cl, string(b)
}

// The dev cloud prints the demo logins and the admin pages' address; the
// administrator sees the setup code there, the non-administrator does not,
// and neither password reaches the log.
func TestDevModeAdminLogins(t *testing.T) {
	dir := t.TempDir()
	c := startDev(t, dir)
	out := c.p.Output()
	am, um, pm := adminLoginRE.FindStringSubmatch(out), userLoginRE.FindStringSubmatch(out), adminPagesRE.FindStringSubmatch(out)
	if am == nil || um == nil || pm == nil || am[1] != "admin@demo.example" || um[1] != "payroll@demo.example" {
		t.Fatalf("output lacks the admin pages and logins:\n%s", out)
	}
	pages := pm[1]
	_, dash := c.browse(pages, am[1], am[2])
	if !strings.Contains(dash, "Company Setup Code") || !strings.Contains(dash, "Mobile Device Management") {
		t.Fatalf("administrator's dashboard:\n%s", dash)
	}
	_, dash = c.browse(pages, um[1], um[2])
	if strings.Contains(dash, "Company Setup Code") || !strings.Contains(dash, "You do not have permission to view the company setup code") {
		t.Fatalf("non-administrator's dashboard:\n%s", dash)
	}

	// The mobile app enrolls with the code the administrator sees.
	code := regexp.MustCompile(`<div class="code">([A-Z0-9-]+)</div>`).FindStringSubmatch(func() string {
		_, d := c.browse(pages, am[1], am[2])
		return d
	}())
	if code == nil {
		t.Fatal("no code on the dashboard")
	}
	var er wire.EnrollResponse
	if we := c.do("POST", wire.PathMobileEnroll, wire.EnrollRequest{SetupCode: code[1], Device: wire.MobileDevice{
		Platform: "android", AppVersion: "3.2.1", Name: "Pixel", InstallID: "e2e-1"}}, &er); we != nil || er.CompanyID != c.company {
		t.Fatalf("enroll: %v %+v", we, er)
	}
	if log := c.log(); strings.Contains(log, am[2]) || strings.Contains(log, um[2]) || strings.Contains(log, code[1]) || strings.Contains(log, er.Token) {
		t.Fatal("a password, the setup code or an install token is in the log")
	}
	if st, _ := os.Stat(filepath.Join(dir, "dev-logins.json")); st == nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("dev-logins.json: %v", st)
	}

	// A restart keeps the passwords.
	c.stop()
	c2 := startDev(t, dir)
	if m := adminLoginRE.FindStringSubmatch(c2.p.Output()); m == nil || m[2] != am[2] {
		t.Fatalf("after a restart the admin login is %v, want the same password", m)
	}
}
