package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"timeclock/release"
	"timeclock/wire"
)

// uploadRaw posts a file as the Updates page's upload form does.
func (u *user) uploadRaw(art []byte) page {
	u.e.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", csrfOf(u.e.t, u.get("/admin/updates")))
	fw, _ := mw.CreateFormFile("artifact", "v2.tcu")
	fw.Write(art)
	mw.Close()
	req, err := http.NewRequest("POST", u.e.srv.URL+"/admin/updates/upload", &b)
	if err != nil {
		u.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := u.c.Do(req)
	if err != nil {
		u.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(body), loc: resp.Header.Get("Location"), resp: resp}
}

func signed(t *testing.T, version string, models ...string) []byte {
	art, err := release.Sign(release.Manifest{Version: version, Arch: "linux/arm/v7", Models: models, Floor: "1.0", Notes: "faster sync"}, []byte("binary "+version), release.DevKey())
	if err != nil {
		t.Fatal(err)
	}
	return art
}

// TestUpdatesPage: an administrator uploads a signed release, offers it to
// every clock of a model, and the Updates and Mobile Devices pages show
// each clock's update state with the reason a clock reported; a forged
// file is refused with the reason; a user without the Administrator
// profile may not open the page.
func TestUpdatesPage(t *testing.T) {
	e := newEnv(t)
	u := e.newUser().login(admin)
	if p := u.get("/admin/updates"); p.status != http.StatusOK || !strings.Contains(p.body, "No releases yet") || !strings.Contains(p.body, `href="/admin/updates"`) {
		t.Fatalf("empty page: %d\n%s", p.status, p.body)
	}
	forged := signed(t, "2.0", "BN6500")
	forged[len(forged)-1] ^= 1
	if p := u.uploadRaw(forged); p.status != http.StatusBadRequest || !strings.Contains(p.body, "does not match its manifest") {
		t.Fatalf("forged upload: %d\n%s", p.status, p.body)
	}
	p := u.uploadRaw(signed(t, "2.0", "BN6500"))
	if p.status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", p.status, p.body)
	}
	page := u.get(p.loc)
	if !strings.Contains(page.body, "Release 2.0 for linux/arm/v7 uploaded.") || !strings.Contains(page.body, "faster sync") || !strings.Contains(page.body, "1.0 or later") {
		t.Fatalf("after upload:\n%s", page.body)
	}
	rel := e.releases.Releases()[0]
	p = u.post("/admin/updates", "/admin/updates/offer", url.Values{"release": {rel.ID}, "model": {"BN6500"}})
	if p.status != http.StatusSeeOther || !strings.Contains(mustURL(p.loc).Query().Get("done"), "offered to 1 clock(s)") {
		t.Fatalf("offer: %d %s\n%s", p.status, p.loc, p.body)
	}
	if got := e.releases.Devices(company)[clockID]; got.State != wire.UpdateOffered || got.Target != "2.0" {
		t.Fatalf("clock's update after the offer: %+v", got)
	}
	// Nothing picked: a clear error, nothing offered.
	if p := u.post("/admin/updates", "/admin/updates/offer", url.Values{"release": {rel.ID}}); p.status != http.StatusBadRequest || !strings.Contains(p.body, "Pick the clocks") {
		t.Fatalf("offer to nobody: %d", p.status)
	}
	// The clock reports a rollback: both pages say so, with its reason.
	if _, _, err := e.releases.Report(company, clockID, wire.UpdateReport{Version: "1.2.0", Arch: "linux/arm/v7", Model: "BN6500", Slot: "a",
		Release: rel.ID, State: wire.UpdateRolledBack, Reason: "version 2.0 failed on trial: exited with status 2"}, t0); err != nil {
		t.Fatal(err)
	}
	want := "2.0: rolled back (version 2.0 failed on trial: exited with status 2)"
	if p := u.get("/admin/updates"); !strings.Contains(p.body, want) {
		t.Errorf("Updates page lacks %q", want)
	}
	if p := u.get("/admin/mobile-devices"); !strings.Contains(p.body, `<td class="update">`+want) {
		t.Errorf("Mobile Devices lacks %q", want)
	}
	// Payroll (Mobile Devices View, not an administrator) may not.
	pp := e.newUser().login(payroll)
	if p := pp.get("/admin/updates"); p.status != http.StatusForbidden {
		t.Fatalf("payroll: %d", p.status)
	}
	if p := pp.get("/admin/mobile-devices"); strings.Contains(p.body, `href="/admin/updates"`) {
		t.Error("payroll's menu offers Updates")
	}
}
