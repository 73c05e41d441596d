package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/cloud/mobile"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/internal/syncbuf"
	"timeclock/wire"
)

type mobileEnv struct {
	t   *testing.T
	srv *httptest.Server
	db  *boltstore.DB
	clk *clock.Fake
	svc *mobile.Service
	log *syncbuf.Buffer
}

func newMobileEnv(t *testing.T, now time.Time) *mobileEnv {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutCompany(store.Company{ID: companyID, Name: "Acme Builders", Timezone: "America/Chicago"})
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &mobileEnv{t: t, db: db, clk: clock.NewFake(now), log: &syncbuf.Buffer{}}
	log := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.svc = mobile.New(mobile.DefaultConfig(), mobile.Deps{Store: db, Clock: e.clk, Log: log})
	e.srv = httptest.NewServer(NewAPI(Deps{Store: db, Clock: e.clk, Log: log, Mobile: e.svc}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *mobileEnv) code() mobile.Code {
	e.t.Helper()
	c, err := e.svc.SetupCode(context.Background(), companyID)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// post sends body (a string is sent as is) and decodes a 200 into out;
// anything else comes back as the wire.Error.
func (e *mobileEnv) post(path, bearer string, body any, out any) (int, *wire.Error) {
	e.t.Helper()
	var b []byte
	if s, ok := body.(string); ok {
		b = []byte(s)
	} else {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(b))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s: %v: %s", path, err, raw)
		}
		return resp.StatusCode, nil
	}
	var we wire.Error
	if err := json.Unmarshal(raw, &we); err != nil {
		e.t.Fatalf("%s: %d with a non-JSON body %q", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, &we
}

func enrollReq(code, installID string) wire.EnrollRequest {
	return wire.EnrollRequest{SetupCode: code, Device: wire.MobileDevice{
		Platform: "ios", AppVersion: "3.2.1", Name: "Dana's iPhone", InstallID: installID}}
}

func (e *mobileEnv) enroll(req wire.EnrollRequest) (wire.EnrollResponse, int, *wire.Error) {
	var resp wire.EnrollResponse
	st, we := e.post(wire.PathMobileEnroll, "", req, &resp)
	return resp, st, we
}

// The setup code changes at Tuesday 00:00 in the company's time zone, on
// the weeks a DST change makes 167 and 169 hours long too; the old code is
// refused for enrollment from that instant.
func TestEnrollSetupCodeRotation(t *testing.T) {
	chi, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		tuesday time.Time // the change, 00:00 Chicago
	}{
		{"ordinary week", time.Date(2026, 2, 24, 0, 0, 0, 0, chi)},
		{"spring forward (Sun Mar 8): 167-hour week", time.Date(2026, 3, 10, 0, 0, 0, 0, chi)},
		{"fall back (Sun Nov 1): 169-hour week", time.Date(2026, 11, 3, 0, 0, 0, 0, chi)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			monday := tc.tuesday.Add(-time.Minute) // Monday 23:59 local
			if monday.In(chi).Weekday() != time.Monday || monday.In(chi).Hour() != 23 {
				t.Fatalf("bad fixture: %v", monday.In(chi))
			}
			e := newMobileEnv(t, monday)
			old := e.code()
			if !old.Changes.Equal(tc.tuesday) || old.Changes.Location().String() != "America/Chicago" {
				t.Fatalf("code changes at %v, want %v", old.Changes, tc.tuesday)
			}
			if _, st, we := e.enroll(enrollReq(old.Code, "install-mon")); we != nil {
				t.Fatalf("Monday 23:59 with the current code: %d %v", st, we)
			}

			e.clk.Set(tc.tuesday)
			next := e.code()
			if next.Code == old.Code {
				t.Fatalf("code did not change at %v", tc.tuesday)
			}
			if want := tc.tuesday.AddDate(0, 0, 7); !next.Changes.Equal(want) {
				t.Errorf("next code changes at %v, want %v", next.Changes, want)
			}
			_, st, we := e.enroll(enrollReq(old.Code, "install-tue-old"))
			if we == nil || st != http.StatusForbidden || we.Code != wire.ErrWrongSetupCode || !strings.Contains(we.Message, "Tuesday") {
				t.Fatalf("Tuesday 00:00 with last week's code: %d %+v, want 403 wrong_setup_code", st, we)
			}
			if _, st, we := e.enroll(enrollReq(strings.ToLower(next.Code), "install-tue")); we != nil {
				t.Fatalf("Tuesday 00:00 with the new code (lower case): %d %v", st, we)
			}

			// And the new code was no good a minute earlier.
			e.clk.Set(monday)
			if _, _, we := e.enroll(enrollReq(next.Code, "install-early")); we == nil || we.Code != wire.ErrWrongSetupCode {
				t.Fatalf("Monday 23:59 with next week's code: %+v", we)
			}
			if strings.Contains(e.log.String(), old.Code) || strings.Contains(e.log.String(), next.Code) {
				t.Fatalf("a setup code is in the log:\n%s", e.log)
			}
		})
	}
}

func TestEnrollAddsApprovedDevice(t *testing.T) {
	e := newMobileEnv(t, t0)
	code := e.code().Code
	resp, _, we := e.enroll(enrollReq(code, "A1B2-C3"))
	if we != nil {
		t.Fatal(we)
	}
	if resp.CompanyID != companyID || resp.CompanyName != "Acme Builders" || resp.Status != "approved" ||
		len(resp.ID) != 16 || len(resp.Token) < 40 || resp.Nickname != "Dana's iPhone" {
		t.Fatalf("response %+v", resp)
	}
	var m store.MobileInstall
	e.db.View(context.Background(), func(tx store.Tx) (err error) {
		m, err = tx.MobileInstall(resp.ID)
		return err
	})
	if m.Status != store.DeviceApproved || m.Platform != store.PlatformIOS || m.AppVersion != "3.2.1" ||
		m.InstallID != "A1B2-C3" || m.TokenHash != store.TokenHash(resp.Token) || !m.EnrolledAt.Equal(t0) {
		t.Fatalf("stored %+v", m)
	}

	// With the company ID too, and a second phone: many use the code at once.
	req := enrollReq(code, "pixel-1")
	req.CompanyID, req.Device.Platform, req.Device.Name = companyID, "android", "Pixel 8"
	r2, _, we := e.enroll(req)
	if we != nil || r2.ID == resp.ID {
		t.Fatalf("second phone: %+v %v", r2, we)
	}

	// The same copy again keeps its ID; the old token stops working.
	e.clk.Advance(time.Hour)
	again, _, we := e.enroll(enrollReq(code, "A1B2-C3"))
	if we != nil || again.ID != resp.ID || again.Token == resp.Token {
		t.Fatalf("enrolled again: %+v %v", again, we)
	}
	var ci wire.MobileCheckInResponse
	if st, we := e.post(wire.PathMobileCheckIn, resp.Token, wire.MobileCheckInRequest{AppVersion: "3.2.2"}, &ci); st != http.StatusUnauthorized {
		t.Fatalf("old token: %d %v", st, we)
	}
	if strings.Contains(e.log.String(), resp.Token) || strings.Contains(e.log.String(), again.Token) {
		t.Fatal("a token is in the log")
	}
}

func TestEnrollRefusals(t *testing.T) {
	e := newMobileEnv(t, t0)
	code := e.code().Code
	for _, tc := range []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"empty", "", 400, "empty body"},
		{"not JSON", "setup code please", 400, "not JSON"},
		{"no code", enrollReq("", "x"), 400, "setup_code"},
		{"code too short", enrollReq("K7PM3XQ", "x"), 400, "setup_code"},
		{"code with symbols", enrollReq("K7PM_3XQ2", "x"), 400, "setup_code"},
		{"bad platform", wire.EnrollRequest{SetupCode: code, Device: wire.MobileDevice{Platform: "windows", AppVersion: "1", Name: "n", InstallID: "i"}}, 400, "device.platform"},
		{"no install id", enrollReq(code, ""), 400, "device.install_id"},
		{"install id with slash", enrollReq(code, "a/b"), 400, "device.install_id"},
		{"blank name", wire.EnrollRequest{SetupCode: code, Device: wire.MobileDevice{Platform: "ios", AppVersion: "1", Name: "  ", InstallID: "i"}}, 400, "device_name"},
		{"bad company id", wire.EnrollRequest{SetupCode: code, CompanyID: "12", Device: enrollReq(code, "x").Device}, 400, "company_id"},
		{"another company's id", wire.EnrollRequest{SetupCode: code, CompanyID: "999999", Device: enrollReq(code, "x").Device}, 403, "not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp wire.EnrollResponse
			st, we := e.post(wire.PathMobileEnroll, "", tc.body, &resp)
			if st != tc.status || we == nil || !strings.Contains(we.Message, tc.want) {
				t.Fatalf("%d %+v, want %d mentioning %q", st, we, tc.status, tc.want)
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		resp, err := e.srv.Client().Get(e.srv.URL + wire.PathMobileEnroll)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET: %d", resp.StatusCode)
		}
	})
}

// Wrong codes from one address stop enrollments from there for a while,
// the right code included, so the code cannot be guessed.
func TestEnrollWrongCodesRateLimited(t *testing.T) {
	e := newMobileEnv(t, t0)
	code := e.code().Code
	wrong := "2222-2222"
	if wrong == code {
		wrong = "3333-3333"
	}
	for i := range 5 {
		if _, _, we := e.enroll(enrollReq(wrong, "x")); we == nil || we.Code != wire.ErrWrongSetupCode {
			t.Fatalf("wrong try %d: %+v", i+1, we)
		}
	}
	_, st, we := e.enroll(enrollReq(code, "x"))
	if st != http.StatusTooManyRequests || we.Code != wire.ErrRateLimited || we.RetryAfter < 1 {
		t.Fatalf("after 5 wrong codes: %d %+v", st, we)
	}
	e.clk.Advance(time.Minute)
	if _, _, we := e.enroll(enrollReq(code, "x")); we != nil {
		t.Fatalf("a minute later: %+v", we)
	}
}

// A disabled copy makes one last transmission, then is refused; enrolling
// it again does not undo the administrator's decision.
func TestMobileDisableAndLastTransmission(t *testing.T) {
	e := newMobileEnv(t, t0)
	code := e.code().Code
	resp, _, we := e.enroll(enrollReq(code, "phone-1"))
	if we != nil {
		t.Fatal(we)
	}
	var ci wire.MobileCheckInResponse
	e.clk.Advance(time.Minute)
	if _, we := e.post(wire.PathMobileCheckIn, resp.Token, wire.MobileCheckInRequest{AppVersion: "3.3.0", LastUsedBy: "Bob Builder"}, &ci); we != nil || ci.Status != "approved" || ci.Final {
		t.Fatalf("check-in: %+v %v", ci, we)
	}
	if err := e.svc.Disable(context.Background(), "999999", resp.ID, "amy@acme.example"); err == nil {
		t.Fatal("another company disabled the phone")
	}
	if err := e.svc.Disable(context.Background(), companyID, resp.ID, "amy@acme.example"); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	if _, we := e.post(wire.PathMobileCheckIn, resp.Token, wire.MobileCheckInRequest{}, &ci); we != nil || ci.Status != "disabled" || !ci.Final {
		t.Fatalf("last transmission: %+v %v", ci, we)
	}
	if st, we := e.post(wire.PathMobileCheckIn, resp.Token, wire.MobileCheckInRequest{}, &ci); st != http.StatusForbidden || we.Code != wire.ErrDisabled {
		t.Fatalf("after the last transmission: %d %+v", st, we)
	}
	if _, st, we := e.enroll(enrollReq(code, "phone-1")); st != http.StatusForbidden || we.Code != wire.ErrDisabled || !strings.Contains(we.Message, "Acme Builders") {
		t.Fatalf("enrolling a disabled copy again: %d %+v", st, we)
	}
	var m store.MobileInstall
	e.db.View(context.Background(), func(tx store.Tx) (err error) { m, err = tx.MobileInstall(resp.ID); return err })
	if m.Status != store.DeviceDisabled || m.DisabledBy != "amy@acme.example" || !m.DisabledAt.Equal(t0.Add(time.Minute)) ||
		m.LastUsedBy != "Bob Builder" || m.AppVersion != "3.3.0" || !m.LastCheckedIn.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("stored %+v", m)
	}
	if st, _ := e.post(wire.PathMobileCheckIn, "", wire.MobileCheckInRequest{}, &ci); st != http.StatusUnauthorized {
		t.Fatalf("check-in without a token: %d", st)
	}
}

func FuzzDecodeEnrollRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte(`{"setup_code":"K7PM-3XQ2","device":{"platform":"ios","app_version":"3.2.1","device_name":"Dana's iPhone","install_id":"A1B2"}}`))
	f.Add([]byte(`{"setup_code":"k7pm 3xq2","company_id":"482913","device":{"platform":"android","app_version":"1","device_name":"P","install_id":"x:y"}}`))
	f.Add([]byte(`{"setup_code":"K7PM-3XQ2","device":{"platform":"ios","app_version":"3","device_name":"\u0000","install_id":"A"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := decodeEnrollRequest(bytes.NewReader(b))
		if e != nil {
			if e.Code != wire.ErrBadRequest || e.Message == "" {
				t.Fatalf("error %+v", e)
			}
			return
		}
		if checkSetupCode(req.SetupCode) != nil || checkMobileDevice(req.Device) != nil ||
			(req.CompanyID != "" && checkCompanyID(req.CompanyID) != nil) {
			t.Fatalf("accepted an invalid request %+v", req)
		}
		if strings.ContainsAny(req.Device.InstallID+req.Device.Name+req.Device.AppVersion, "\x00\n\r") {
			t.Fatalf("control characters accepted: %+v", req.Device)
		}
	})
}

func FuzzDecodeCheckInRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte(`{"app_version":"3.2.1","last_used_by":"Bob Builder"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := decodeCheckInRequest(bytes.NewReader(b))
		if e != nil {
			if e.Code != wire.ErrBadRequest {
				t.Fatalf("error %+v", e)
			}
			return
		}
		if len(req.AppVersion) > 32 || len(req.LastUsedBy) > 64 || !printable(req.AppVersion+req.LastUsedBy) {
			t.Fatalf("accepted %+v", req)
		}
	})
}

// The admin API lists phones with the clocks and disables them, as the
// Mobile Devices page does.
func TestAdminAPIListsAndDisablesPhones(t *testing.T) {
	e := newMobileEnv(t, t0)
	e.db.Update(context.Background(), func(tx store.Tx) error {
		tx.PutUser(store.User{CompanyID: companyID, Email: "ada@acme.example", Administrator: true})
		tx.PutCompany(store.Company{ID: "7777", Name: "Other", Timezone: "UTC"})
		tx.PutAdminToken(store.AdminToken{Hash: store.TokenHash("other-token"), CompanyID: "7777", UserEmail: "x@other.example"})
		return tx.PutAdminToken(store.AdminToken{Hash: store.TokenHash(adminToken), CompanyID: companyID, UserEmail: "ada@acme.example"})
	})
	resp, _, we := e.enroll(enrollReq(e.code().Code, "phone-1"))
	if we != nil {
		t.Fatal(we)
	}
	get := func() DeviceList {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/devices", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		r, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var l DeviceList
		decodeResp(t, r, &l)
		return l
	}
	if l := get(); len(l.Approved) != 1 || l.Approved[0].ID != resp.ID || l.Approved[0].Type != "iPhone (iOS)" || l.Approved[0].Kind != "phone" {
		t.Fatalf("list %+v", l)
	}
	var row DeviceRow
	if st, we := e.post("/api/v1/devices/"+resp.ID+"/disable", "other-token", "", &row); st != http.StatusNotFound && st != http.StatusNotImplemented {
		t.Fatalf("another company disabled the phone: %d %v", st, we)
	}
	if st, we := e.post("/api/v1/devices/"+resp.ID+"/disable", adminToken, "", &row); we != nil || row.Status != "disabled" ||
		row.DisabledBy != "ada@acme.example" || row.LastTransmission != "waiting" {
		t.Fatalf("disable: %d %v %+v", st, we, row)
	}
	if l := get(); len(l.Disabled) != 1 || l.Disabled[0].ID != resp.ID {
		t.Fatalf("list after disable %+v", l)
	}
}
