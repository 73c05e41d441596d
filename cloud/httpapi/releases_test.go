package httpapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"timeclock/clock"
	"timeclock/cloud/releases"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/release"
	"timeclock/wire"
)

// The release routes: an administrator's token uploads a signed artifact
// (a forged one is refused with the reason), lists releases and offers one
// to a clock of the company; the devices list then carries the clock's
// update. A clock's own routes refuse a caller without a device certificate.
func TestReleasesThroughTheAPI(t *testing.T) {
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(context.Background(), func(tx store.Tx) error {
		for _, f := range []func() error{
			func() error {
				return tx.PutCompany(store.Company{ID: companyID, Name: "Acme Builders", Timezone: "America/Chicago"})
			},
			func() error {
				return tx.PutCompany(store.Company{ID: "777777", Name: "Other", Timezone: "America/Chicago"})
			},
			func() error {
				return tx.PutAdminToken(store.AdminToken{Hash: store.TokenHash(adminToken), CompanyID: companyID, UserEmail: "ada@acme.example"})
			},
			func() error {
				return tx.PutDevice(store.Device{ID: "d1", CompanyID: companyID, Serial: "S1", Model: "BN6500", Nickname: "Front", Status: store.DeviceApproved})
			},
			func() error {
				return tx.PutDevice(store.Device{ID: "d9", CompanyID: "777777", Serial: "S9", Model: "BN6500", Nickname: "Theirs", Status: store.DeviceApproved})
			},
			func() error {
				return tx.PutDevice(store.Device{ID: "d2", CompanyID: companyID, Serial: "S2", Model: "JR2000", Nickname: "Back", Status: store.DeviceApproved})
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
	rs, err := releases.Open(filepath.Join(t.TempDir(), "releases"), []ed25519.PublicKey{release.DevKey().Public().(ed25519.PublicKey)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewAPI(Deps{Store: db, Clock: clock.NewFake(t0), Log: slog.New(slog.DiscardHandler), Releases: rs}))
	t.Cleanup(srv.Close)
	do := func(method, path, token string, body []byte, out any) (int, *wire.Error) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return decodeResp(t, resp, out)
	}
	art, err := release.Sign(release.Manifest{Version: "2.0", Arch: "linux/arm/v7", Models: []string{"BN6500"}}, []byte("binary"), release.DevKey())
	if err != nil {
		t.Fatal(err)
	}
	if code, e := do("POST", "/api/v1/releases", "", art, nil); code != http.StatusUnauthorized || e.Code != wire.ErrUnauthorized {
		t.Fatalf("upload without a token: %d %v", code, e)
	}
	forged := bytes.Clone(art)
	forged[len(forged)-1] ^= 1
	if code, e := do("POST", "/api/v1/releases", adminToken, forged, nil); code != http.StatusBadRequest || !bytes.Contains([]byte(e.Message), []byte("does not match its manifest")) {
		t.Fatalf("forged upload: %d %v", code, e)
	}
	var rel releases.Release
	if code, e := do("POST", "/api/v1/releases", adminToken, art, &rel); code != http.StatusCreated || rel.Version != "2.0" || rel.ID == "" {
		t.Fatalf("upload: %d %v %+v", code, e, rel)
	}
	var list struct{ Releases []releases.Release }
	if code, _ := do("GET", "/api/v1/releases", adminToken, nil, &list); code != 200 || len(list.Releases) != 1 {
		t.Fatalf("list: %d %+v", code, list)
	}
	offer := func(dev, id string) (int, *wire.Error) {
		return do("POST", "/api/v1/devices/"+dev+"/update", adminToken, []byte(`{"release":"`+id+`"}`), &map[string]any{})
	}
	if code, e := offer("d9", rel.ID); code != http.StatusNotFound || e.Code != wire.ErrNotFound {
		t.Fatalf("another company's clock: %d %v", code, e)
	}
	if code, e := offer("d2", rel.ID); code != http.StatusBadRequest || !bytes.Contains([]byte(e.Message), []byte("this clock is a JR2000")) {
		t.Fatalf("wrong model: %d %v", code, e)
	}
	if code, e := offer("d1", "rnosuch"); code != http.StatusNotFound {
		t.Fatalf("unknown release: %d %v", code, e)
	}
	if code, e := offer("d1", rel.ID); code != 200 {
		t.Fatalf("offer: %d %v", code, e)
	}
	var devs DeviceList
	do("GET", "/api/v1/devices", adminToken, nil, &devs)
	for _, r := range devs.Approved {
		if r.ID == "d1" && (r.Update == nil || r.Update.State != wire.UpdateOffered || r.Update.Target != "2.0") {
			t.Fatalf("d1's update in the list: %+v", r.Update)
		}
		if r.ID == "d2" && r.Update != nil {
			t.Fatalf("d2 was never offered one: %+v", r.Update)
		}
	}
	// A clock's routes need its certificate.
	if code, e := do("POST", wire.PathUpdateReport, "", []byte(`{}`), nil); code != http.StatusUnauthorized || e.Code != wire.ErrUnauthorized {
		t.Fatalf("report without a certificate: %d %v", code, e)
	}
	if code, _ := do("GET", wire.PathUpdateArtifact+rel.ID, adminToken, nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("artifact with an admin token, no certificate: %d", code)
	}
}
