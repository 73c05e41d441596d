package web

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"timeclock/cloud/store"
	"timeclock/internal/browsertest"
	"timeclock/wire"
)

// tab is one person's browser tab on the test server.
type tab struct {
	t   *testing.T
	ctx context.Context
	e   *env
}

func (e *env) tab(t *testing.T) *tab {
	b := browsertest.Shared(t)
	return &tab{t: t, ctx: b.Tab(t, 30*time.Second), e: e}
}

func (b *tab) run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *tab) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.e.srv.URL+path), chromedp.WaitReady("body"))
}

// text is the visible text of the first element matching sel.
func (b *tab) text(sel string) string {
	b.t.Helper()
	var s string
	b.run("read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

func (b *tab) exists(sel string) bool {
	b.t.Helper()
	var n int
	b.run("count "+sel, chromedp.Evaluate(`document.querySelectorAll(`+jsString(sel)+`).length`, &n))
	return n > 0
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

func (b *tab) shot(name string) {
	b.t.Helper()
	if err := browsertest.Screenshot(b.ctx, browsertest.ScreenshotDir(), name); err != nil {
		b.t.Fatal(err)
	}
}

// login fills in the login form like a person and lands on the first page.
func (b *tab) login(email string, shot string) {
	b.t.Helper()
	b.open("/admin/")
	b.run("type the login",
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.SendKeys("#email", email, chromedp.ByID),
		chromedp.SendKeys("#password", password, chromedp.ByID))
	if shot != "" {
		b.shot(shot)
	}
	// Wait for what only the next page has: the logged-in header, or the
	// login page's error.
	b.run("log in", chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("header .who, main p.error", chromedp.ByQuery))
	if h := b.text("main h1"); h == "Log in" {
		b.t.Fatalf("still on the login page: %s", b.text("main"))
	}
}

func contains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// An administrator logs in, sees the clock in Approved Devices with its
// check-in data, disables it through the confirmation page and finds it
// under Disabled Devices. The pages run without JavaScript: the browser
// only clicks links and buttons.
func TestBrowserDisableAClock(t *testing.T) {
	e := newEnv(t)
	iphone := e.enrollPhone("ios", "Maria's iPhone", "ios-1")
	e.enrollPhone("android", "Warehouse Pixel", "android-1")
	e.clk.Advance(-20 * time.Minute) // an earlier check-in, for a lived-in page
	if _, err := e.mob.CheckIn(context.Background(), iphone.Token, wire.MobileCheckInRequest{AppVersion: "3.2.2", LastUsedBy: "Maria Lopez"}); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(20 * time.Minute)
	b := e.tab(t)
	b.login(admin, "login.png")
	if h := b.text("main h1"); h != "Dashboard" {
		t.Fatalf("landed on %q", h)
	}
	contains(t, "Dashboard", b.text("#mdm"), "Mobile Device Management", "Company Setup Code", e.setupCode(),
		"This code will change on Tuesday, March 10, 2026 at 12:00 AM CDT", "3 approved devices")
	b.shot("dashboard.png")

	b.run("menu: Mobile Devices", chromedp.Click(`nav a[href="/admin/mobile-devices"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#approved", chromedp.ByID))
	row := `#approved tr[data-id="` + clockID + `"]`
	contains(t, "the clock's row", b.text(row), "Yard gate", "Bob Builder", "BN6500", "1.2.0", clockID, "Mar 3, 2026 3:27 PM CST")
	contains(t, "Approved Devices", b.text("#approved"), "iPhone (iOS)", "Android", "Warehouse Pixel", "Maria Lopez", "3.2.2", "Mar 3, 2026 3:10 PM CST")
	contains(t, "Mobile Devices", b.text("main"), "Add a Mobile Device", "Refresh Approved Mobile Devices", e.setupCode())

	b.run("Disable", chromedp.Click(row+` a.danger`, chromedp.ByQuery), chromedp.WaitVisible("#confirm-disable", chromedp.ByID))
	contains(t, "the confirmation", b.text("main"), "Disable Yard gate?", "one last transmission", "Disabled by administrator")
	b.shot("confirm-disable.png")
	e.clk.Advance(2 * time.Minute)
	b.run("confirm", chromedp.Click("#confirm-disable", chromedp.ByID), chromedp.WaitVisible("#disabled", chromedp.ByID))

	contains(t, "the notice", b.text("p.notice"), "Yard gate ("+clockID+") is disabled.")
	if b.exists(row) {
		t.Error("the clock is still under Approved Devices")
	}
	contains(t, "Disabled Devices", b.text(`#disabled tr[data-id="`+clockID+`"]`),
		"Yard gate", "BN6500", "Mar 3, 2026 3:32 PM CST", "Waiting for its last transmission", "Dana Admin")
	if calls := e.clocks.all(); len(calls) != 1 || calls[0] != company+"/"+clockID+"/"+admin {
		t.Fatalf("disable calls %v", calls)
	}
	b.shot("mobile-devices.png")

	b.run("Add a Mobile Device", chromedp.Click(`main a[href="/admin/mobile-devices/add"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#phone", chromedp.ByID),
		chromedp.SendKeys("#phone", "+44 20 7183 8750", chromedp.ByID),
		chromedp.Click(`form button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible("#sms-error", chromedp.ByID))
	contains(t, "the SMS error", b.text("#sms-error"), "SMS in USA only")
	b.shot("add-mobile-device.png")
	b.run("send to a US mobile",
		chromedp.Evaluate(`document.getElementById('phone').value = ''`, nil),
		chromedp.SendKeys("#phone", "(415) 555-2671", chromedp.ByID),
		chromedp.Click(`form button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible("p.notice", chromedp.ByQuery))
	contains(t, "the notice", b.text("p.notice"), "sent by text message to (415) 555-2671")
	if msgs := e.sms.all(); len(msgs) != 1 || msgs[0].To != "+14155552671" {
		t.Errorf("provider got %+v", msgs)
	}
}

// A non-administrator does not see the setup code until an administrator
// grants Add on Manage Mobile Devices to their role, on the Security Roles
// page.
func TestBrowserSetupCodeNeedsAdd(t *testing.T) {
	e := newEnv(t)
	code := e.setupCode()
	pat := e.tab(t)
	pat.login(payroll, "")
	if !pat.exists("#setup-code-hidden") || pat.exists("#setup-code") || strings.Contains(pat.text("main"), code) {
		t.Fatalf("pat sees the code without Add:\n%s", pat.text("main"))
	}
	pat.shot("dashboard-no-add.png")

	dana := e.tab(t)
	dana.login(admin, "")
	dana.run("Security Roles", chromedp.Click(`nav a[href="/admin/security-roles"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`a[href="/admin/security-roles/payroll"]`, chromedp.ByQuery),
		chromedp.Click(`a[href="/admin/security-roles/payroll"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#perms", chromedp.ByID),
		chromedp.Click(`#perms input[value="mobile_devices.add"]`, chromedp.ByQuery),
		chromedp.Click(`#perms button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("p.notice", chromedp.ByQuery))
	contains(t, "the roles page", dana.text("p.notice"), "permissions were saved")
	dana.shot("security-roles.png")

	pat.open("/admin/dashboard")
	if !pat.exists("#setup-code") || !strings.Contains(pat.text("#setup-code"), code) {
		t.Fatalf("pat does not see the code after Add was granted:\n%s", pat.text("main"))
	}
}

// A form posted without its CSRF token is refused with a clear page, and
// nothing changes.
func TestBrowserFormWithoutCSRFTokenRefused(t *testing.T) {
	e := newEnv(t)
	b := e.tab(t)
	b.login(admin, "")
	b.open("/admin/mobile-devices/" + clockID + "/disable")
	// The test driver (not the page, which has no script) removes the token.
	b.run("drop the token and submit",
		chromedp.Evaluate(`document.getElementById('confirm-disable').form.querySelector('input[name=csrf]').remove()`, nil),
		chromedp.Click("#confirm-disable", chromedp.ByID),
		chromedp.WaitVisible("p.status", chromedp.ByQuery))
	contains(t, "the refusal", b.text("main"), "403", "Security check failed", "nothing was changed")
	b.shot("csrf-refused.png")
	if calls := e.clocks.all(); len(calls) != 0 {
		t.Fatalf("the clock was disabled: %v", calls)
	}
	e.db.View(context.Background(), func(tx store.Tx) error {
		if d, _ := tx.Device(clockID); d.Status != store.DeviceApproved || !d.DisabledAt.IsZero() {
			t.Errorf("clock status %v", d.Status)
		}
		return nil
	})
}

// Mobile Devices shows each clock's connection, pending punches and the
// age of the oldest from its last check-in; once the only approved clock is
// disabled, the Approved half says every device is disabled, not "yet".
func TestBrowserClockStatusAndAllDisabled(t *testing.T) {
	e := newEnv(t)
	if err := e.db.Update(context.Background(), func(tx store.Tx) error {
		d, err := tx.Device(clockID)
		if err != nil {
			return err
		}
		d.Online, d.Pending, d.OldestAge = false, 3, 7*60+20
		return tx.PutDevice(d)
	}); err != nil {
		t.Fatal(err)
	}
	b := e.tab(t)
	b.login(admin, "")
	b.open("/admin/mobile-devices")
	row := `#approved tr[data-id="` + clockID + `"]`
	if got := []string{b.text(row + " td.conn"), b.text(row + " td.pending"), b.text(row + " td.oldest")}; got[0] != "Offline" || got[1] != "3" || got[2] != "7 min" {
		t.Errorf("status, pending, oldest = %q, want Offline 3 \"7 min\"", got)
	}
	contains(t, "Approved Devices", b.text("#approved thead"), "Status", "Pending", "Oldest Pending")
	b.shot("mobile-devices-status.png")

	b.run("Disable", chromedp.Click(row+` a.danger`, chromedp.ByQuery), chromedp.WaitVisible("#confirm-disable", chromedp.ByID),
		chromedp.Click("#confirm-disable", chromedp.ByID), chromedp.WaitVisible("#disabled", chromedp.ByID))
	if b.exists("#approved") {
		t.Fatalf("approved devices left:\n%s", b.text("#approved"))
	}
	msg := b.text("#no-approved")
	if strings.Contains(msg, "yet") || !strings.Contains(msg, "every device is disabled") {
		t.Errorf("with every device disabled, the Approved half says %q", msg)
	}
	b.shot("no-approved-devices.png")
}

// An administrator renames a clock from Mobile Devices: a page with the
// nickname, an empty one refused in words, the new name in the list at
// once and a rename command to the clock.
func TestBrowserRenameAClock(t *testing.T) {
	e := newEnv(t)
	b := e.tab(t)
	b.login(admin, "")
	b.open("/admin/mobile-devices")
	row := `#approved tr[data-id="` + clockID + `"]`
	b.run("Rename", chromedp.Click(row+` a.rename`, chromedp.ByQuery), chromedp.WaitVisible("#nickname", chromedp.ByID))
	contains(t, "the rename page", b.text("main"), "Rename Yard gate", clockID, "after its next connection")
	b.run("clear the name", chromedp.Evaluate(`document.getElementById('nickname').value = '   '; document.getElementById('nickname').removeAttribute('required')`, nil),
		chromedp.Click("#confirm-rename", chromedp.ByID), chromedp.WaitVisible("#rename-error", chromedp.ByID))
	contains(t, "the refusal", b.text("#rename-error"), "1 to 64 characters")
	b.run("type a name", chromedp.Evaluate(`document.getElementById('nickname').value = ''`, nil),
		chromedp.SendKeys("#nickname", "Loading dock", chromedp.ByID))
	b.shot("rename-clock.png")
	b.run("rename", chromedp.Click("#confirm-rename", chromedp.ByID), chromedp.WaitVisible("p.notice", chromedp.ByQuery))
	contains(t, "the notice", b.text("p.notice"), "is now called Loading dock")
	contains(t, "the clock's row", b.text(row), "Loading dock")
	want := "rename " + company + "/" + clockID + "/Loading dock/" + admin
	if calls := e.clocks.all(); len(calls) != 1 || calls[0] != want {
		t.Errorf("calls %q, want %q", calls, want)
	}
}

// An administrator enables a disabled clock again from Disabled Devices:
// the onboarding screen's "ask them to enable it" has a button to press,
// and the row says the clock may be onboarded again.
func TestBrowserEnableADisabledClock(t *testing.T) {
	e := newEnv(t)
	b := e.tab(t)
	b.login(admin, "")
	b.open("/admin/mobile-devices")
	row := `#disabled tr[data-id="77aa00bb11cc22dd"]`
	b.run("Enable", chromedp.Click(row+` button.enable`, chromedp.ByQuery), chromedp.WaitVisible("p.notice", chromedp.ByQuery))
	contains(t, "the notice", b.text("p.notice"), "Old office (77aa00bb11cc22dd) is enabled again", "approved again under the same ID")
	contains(t, "the row", b.text(row), "Enabled again by Dana Admin")
	if b.exists(row + " button.enable") {
		t.Error("the Enable button is still there")
	}
	if calls := e.clocks.all(); len(calls) != 1 || calls[0] != "enable "+company+"/77aa00bb11cc22dd/"+admin {
		t.Errorf("calls %q", calls)
	}
	b.shot("enable-clock.png")
}

// The Punches page lists the company's punches newest first, with the
// employee's name from the roster, and narrows them to one clock or one
// employee.
func TestBrowserPunchesPerClockAndEmployee(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)
	err := e.db.Update(context.Background(), func(tx store.Tx) error {
		for _, emp := range []store.RosterEmployee{{CompanyID: company, ID: "E100", Name: "Ada Lovelace", Active: true}, {CompanyID: company, ID: "E102", Name: "Grace Hopper", Active: true}} {
			if err := tx.PutRosterEmployee(emp); err != nil {
				return err
			}
		}
		for i, p := range []struct {
			dev, id, emp string
			kind         wire.PunchKind
			min          int
			set, corr    bool
		}{
			{clockID, "p1", "E100", wire.KindIn, 0, true, false},
			{clockID, "p2", "E102", wire.KindIn, 5, false, true},
			{"77aa00bb11cc22dd", "p3", "E100", wire.KindOut, 60, true, false},
		} {
			sp := store.Punch{DeviceID: p.dev, CompanyID: company, ReceivedAt: at.Add(time.Duration(p.min+1) * time.Minute),
				Punch: wire.Punch{ID: p.id, Seq: uint64(i + 1), Employee: p.emp, Kind: p.kind, Time: at.Add(time.Duration(p.min) * time.Minute),
					TZ: "America/Chicago", ClockSet: p.set}}
			if p.corr {
				// Taken on a clock that did not know the time (it showed
				// 1970), corrected since: the record keeps both times.
				first := sp.Punch
				first.Time = time.Date(1970, 1, 1, 0, 3, 0, 0, time.UTC)
				c := sp.Punch
				c.Corrected = true
				sp.Punch = first
				sp.Correct(c, at.Add(time.Duration(p.min+2)*time.Minute))
			}
			if _, err := tx.PutPunch(sp); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	b := e.tab(t)
	b.login(admin, "")
	b.run("menu: Punches", chromedp.Click(`nav a[href="/admin/punches"]`, chromedp.ByQuery), chromedp.WaitVisible("#punches", chromedp.ByID))
	all := b.text("#punches tbody")
	contains(t, "all punches", all, "Ada Lovelace", "Grace Hopper", "Yard gate", "Old office", "Mar 3, 2026 8:00 AM CST", "corrected", "OUT",
		"first sent as Dec 31, 1969 6:03 PM CST")
	if i, j := strings.Index(all, "Old office"), strings.Index(all, "Yard gate"); i < 0 || j < 0 || i > j {
		t.Errorf("not newest first:\n%s", all)
	}
	b.shot("punches.png")
	// The next page is there once its form shows the choice as selected.
	b.run("Grace Hopper's", chromedp.SetValue("#employee", "E102", chromedp.ByID), chromedp.Click("#show", chromedp.ByID),
		chromedp.WaitReady(`#employee option[selected][value="E102"]`, chromedp.ByQuery))
	if s := b.text("#punches tbody"); !strings.Contains(s, "Grace Hopper") || strings.Contains(s, "Ada Lovelace") {
		t.Errorf("Grace Hopper's punches:\n%s", s)
	}
	b.run("Old office's", chromedp.SetValue("#employee", "", chromedp.ByID), chromedp.SetValue("#device", "77aa00bb11cc22dd", chromedp.ByID),
		chromedp.Click("#show", chromedp.ByID), chromedp.WaitReady(`#device option[selected][value="77aa00bb11cc22dd"]`, chromedp.ByQuery))
	if s := b.text("#punches tbody"); !strings.Contains(s, "Old office") || strings.Contains(s, "Yard gate") || strings.Count(s, "Ada Lovelace") != 1 {
		t.Errorf("Old office's punches:\n%s", s)
	}
}

// An administrator manages the company's users on the Users page: adds
// one with a role and a password, resets another's password, removes a
// third, and cannot remove themselves. No password reaches the log.
func TestBrowserManageUsers(t *testing.T) {
	e := newEnv(t)
	const chrisPass, patPass = "chris password 1", "pat new password"
	b := e.tab(t)
	b.login(admin, "")
	b.run("menu: Users", chromedp.Click(`nav a[href="/admin/users"]`, chromedp.ByQuery), chromedp.WaitVisible("#users", chromedp.ByID))
	b.run("add Chris", chromedp.SendKeys("#name", "Chris Crew", chromedp.ByID), chromedp.SendKeys("#email", "chris@acme.example", chromedp.ByID),
		chromedp.SendKeys("#new-password", chrisPass, chromedp.ByID), chromedp.SetValue("#role", "payroll", chromedp.ByID),
		chromedp.Click("#add", chromedp.ByID), chromedp.WaitVisible("p.notice", chromedp.ByQuery))
	contains(t, "the notice", b.text("p.notice"), "The user was added")
	contains(t, "Chris's row", b.text(`#users tr[data-email="chris@acme.example"]`), "Chris Crew", "Payroll")
	b.run("reset Pat's password", chromedp.SendKeys(`#users tr[data-email="`+payroll+`"] input[name=password]`, patPass, chromedp.ByQuery),
		chromedp.Click(`#users tr[data-email="`+payroll+`"] button.reset`, chromedp.ByQuery),
		chromedp.WaitVisible("#notice-password", chromedp.ByID))
	contains(t, "the notice", b.text("p.notice"), "The password was reset")
	b.run("remove Sam: asked first", chromedp.Click(`#users tr[data-email="`+nobody+`"] button.remove`, chromedp.ByQuery),
		chromedp.WaitVisible("#confirm-remove", chromedp.ByID))
	contains(t, "the confirmation", b.text("section.dialog"), "Remove", nobody, "can no longer log in")
	b.run("cancel", chromedp.Click(`a.button.secondary[href="/admin/users"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#users", chromedp.ByID))
	if !b.exists(`#users tr[data-email="` + nobody + `"]`) {
		t.Fatal("Cancel removed the user")
	}
	b.run("remove Sam, confirmed", chromedp.Click(`#users tr[data-email="`+nobody+`"] button.remove`, chromedp.ByQuery),
		chromedp.WaitVisible("#confirm-remove", chromedp.ByID),
		chromedp.Click("#confirm-remove", chromedp.ByID),
		chromedp.WaitVisible("#notice-removed", chromedp.ByID))
	contains(t, "the notice", b.text("p.notice"), "The user was removed")
	if b.exists(`#users tr[data-email="` + nobody + `"]`) {
		t.Error("Sam is still listed")
	}
	if b.exists(`#users tr[data-email="` + admin + `"] button.remove`) {
		t.Error("Dana can remove herself")
	}
	b.shot("users.png")
	e.db.View(context.Background(), func(tx store.Tx) error {
		c, err := tx.User(company, "chris@acme.example")
		if err != nil || c.RoleID != "payroll" || c.Administrator || bcrypt.CompareHashAndPassword([]byte(c.PasswordHash), []byte(chrisPass)) != nil {
			t.Errorf("chris %+v %v", c, err)
		}
		p, _ := tx.User(company, payroll)
		if bcrypt.CompareHashAndPassword([]byte(p.PasswordHash), []byte(patPass)) != nil {
			t.Error("Pat's password was not reset")
		}
		if _, err := tx.User(company, nobody); err == nil {
			t.Error("Sam is still in the store")
		}
		return nil
	})
	if l := e.log.String(); strings.Contains(l, chrisPass) || strings.Contains(l, patPass) {
		t.Error("a password reached the log")
	}
}

// An administrator opens Biometrics from the navigation, reads who
// consented on which clock and what was deleted, and presses "Delete
// biometric data" for one employee: the deletion goes to the registry (so
// to every clock) and the page says so.
func TestBrowserBiometricsDelete(t *testing.T) {
	e := newEnv(t)
	seedBiometrics(t, e)
	b := e.tab(t)
	b.login(admin, "")
	b.run("Biometrics in the navigation", chromedp.Click(`nav a[href="/admin/biometrics"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#biometrics", chromedp.ByID))
	page := b.text("#biometrics")
	contains(t, "the Biometrics table", page, "(E101)", "(E102)", "by supervisor E100", "removed from the roster", "Yard gate")
	b.shot("biometrics.png")
	// E101's row is the one whose form names E101.
	b.run("Delete E101's biometric data",
		chromedp.Click(`#biometrics form:has(input[name=employee][value=E101]) button`, chromedp.ByQuery),
		chromedp.WaitVisible("#deleted", chromedp.ByID))
	contains(t, "the notice", b.text("#deleted"), "E101", "was sent to every clock")
	if calls := e.clocks.all(); !slices.Contains(calls, "delete biometrics E101 by "+admin) {
		t.Errorf("registry calls %q", calls)
	}
}

// An administrator uploads a signed release through the Updates page's
// file field, ticks one clock, offers it, and sees that clock's update
// state change; a damaged file is refused on the page with the reason.
func TestBrowserUploadAndOfferARelease(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "v2.tcu"), filepath.Join(dir, "forged.tcu")
	art := signed(t, "2.0", "BN6500")
	forged := bytes.Clone(art)
	forged[len(forged)-1] ^= 1
	if err := os.WriteFile(good, art, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, forged, 0o600); err != nil {
		t.Fatal(err)
	}
	b := e.tab(t)
	b.login(admin, "")
	b.run("Updates in the navigation", chromedp.Click(`nav a[href="/admin/updates"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#upload", chromedp.ByID))
	b.run("upload a forged file", chromedp.SetUploadFiles("#artifact", []string{bad}, chromedp.ByID),
		chromedp.Click(`#upload button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible("p.error", chromedp.ByQuery))
	contains(t, "the refusal", b.text("p.error"), "does not match its manifest")
	b.open("/admin/updates")
	b.run("upload the release", chromedp.SetUploadFiles("#artifact", []string{good}, chromedp.ByID),
		chromedp.Click(`#upload button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible("#releases", chromedp.ByID))
	contains(t, "the notice", b.text("p.notice"), "Release 2.0 for linux/arm/v7 uploaded.")
	contains(t, "the releases", b.text("#releases"), "2.0", "BN6500", "1.0 or later", "faster sync")
	row := `#clocks tr[data-id="` + clockID + `"]`
	b.open("/admin/updates") // without the upload's notice: the offer's is the next one
	b.run("tick the clock and offer", chromedp.Click(row+` input[type=checkbox]`, chromedp.ByQuery),
		chromedp.Click(`#offer button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible("p.notice", chromedp.ByQuery))
	contains(t, "the notice", b.text("p.notice"), "offered to 1 clock(s)")
	contains(t, "the clock's row", b.text(row+" td.update"), "2.0", "offered")
	b.shot("updates-offered.png")
	if got := e.releases.Devices(company)[clockID]; got.State != wire.UpdateOffered || got.Target != "2.0" {
		t.Fatalf("the clock's update after the offer: %+v", got)
	}
}
