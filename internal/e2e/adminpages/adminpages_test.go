// Package adminpages_test is the administrator's side end to end: the
// real timeclock-cloud in --dev mode, a real timeclockd on the simulated
// board onboarded to it, and headless Chromium on the admin pages. The
// administrator logs in with the printed demo login, sees the clock with
// its check-in data, disables it with the confirmation page, and the
// clock's own screen says "Disabled by administrator".
package adminpages_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"timeclock/internal/await"
	"timeclock/internal/browsertest"
	"timeclock/internal/daemontest"
	"timeclock/internal/e2e"
)

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.CloseShared()
	daemontest.Cleanup()
	os.Exit(code)
}

var (
	adminLoginRE = regexp.MustCompile(`(?m)^admin login: (\S+) / (\S+)$`)
	adminPagesRE = regexp.MustCompile(`(?m)^admin pages: (https://localhost:\d+)/admin/ `)
)

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	run(t, ctx, "read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
	return s
}

func TestDisableAClockFromTheMobileDevicesPage(t *testing.T) {
	b := browsertest.Shared(t)
	c := e2e.StartCloud(t, e2e.CloudOptions{})
	out := c.P.Output()
	login, pages := adminLoginRE.FindStringSubmatch(out), adminPagesRE.FindStringSubmatch(out)
	if login == nil || pages == nil {
		t.Fatalf("the cloud printed no admin login or pages address:\n%s", out)
	}
	base := pages[1]

	k := e2e.StartClock(t, filepath.Join(t.TempDir(), "clock"), c, nil)
	id := k.Onboard(t, c)
	// A punch, so Last Used By has someone (once the roster came over
	// MQTT); then its check-in.
	await.True(t, e2e.Wait, func() bool { return c.Device(t, id).RosterVersion > 0 }, "the clock never confirmed the demo roster")
	k.Sim.OK("badge 10002")
	k.Wait("Grace Hopper")
	dev := await.Value(t, e2e.Wait, func() (e2e.Device, bool) {
		d := c.Device(t, id)
		return d, d.Online && d.Version != "" && d.Pending == 0
	}, "the clock did not check in with its punch sent")

	tab := b.Tab(t, 60*time.Second)
	run(t, tab, "log in with the printed login",
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.SendKeys("#email", login[1], chromedp.ByID),
		chromedp.SendKeys("#password", login[2], chromedp.ByID),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#mdm", chromedp.ByID))
	if s := text(t, tab, "#mdm"); !strings.Contains(s, "Company Setup Code") || !strings.Contains(s, "This code will change on Tuesday") {
		t.Fatalf("Dashboard:\n%s", s)
	}

	run(t, tab, "Mobile Devices",
		chromedp.Click(`nav a[href="/admin/mobile-devices"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#approved", chromedp.ByID))
	row := `#approved tr[data-id="` + id + `"]`
	s := text(t, tab, row)
	// Last Used By names the employee (Grace Hopper is E101 in the demo
	// roster), whether the ingest or the check-in wrote it last.
	for _, want := range []string{dev.Nickname, dev.Type, dev.Version, id, "Grace Hopper"} {
		if !strings.Contains(s, want) {
			t.Errorf("the clock's row lacks %q: %s", want, s)
		}
	}
	if strings.Contains(s, "Never") {
		t.Errorf("the clock's row says it never checked in: %s", s)
	}

	run(t, tab, "Disable, then confirm",
		chromedp.Click(row+" a.danger", chromedp.ByQuery),
		chromedp.WaitVisible("#confirm-disable", chromedp.ByID),
		chromedp.Click("#confirm-disable", chromedp.ByID),
		chromedp.WaitVisible("#disabled", chromedp.ByID))
	if s := text(t, tab, `#disabled tr[data-id="`+id+`"]`); !strings.Contains(s, "Dana Admin") {
		t.Errorf("Disabled Devices row: %s", s)
	}

	// The clock makes its last transmission and says so on its screen
	// (20 columns: "Disabled by" / "administrator").
	if scr := k.Wait("Disabled by"); !strings.Contains(scr, "administrator") {
		t.Fatalf("the clock's screen:\n%s", scr)
	}
	await.True(t, e2e.Wait, func() bool {
		d := c.Device(t, id)
		return d.Status == "disabled" && d.LastTransmission == "received"
	}, "the cloud did not record the clock's last transmission")
	run(t, tab, "Refresh Approved Mobile Devices",
		chromedp.Click("#refresh", chromedp.ByID),
		chromedp.WaitVisible("#disabled", chromedp.ByID))
	if s := text(t, tab, `#disabled tr[data-id="`+id+`"]`); strings.Contains(s, "Waiting for its last transmission") {
		t.Errorf("after the last transmission the row still waits: %s", s)
	}
	if strings.Contains(c.Log(), login[2]) {
		t.Error("the admin password is in the cloud's log")
	}
}
