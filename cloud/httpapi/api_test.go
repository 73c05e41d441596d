package httpapi

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/cloud/enroll"
	"timeclock/cloud/notify"
	"timeclock/cloud/pki"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/wire"
)

var t0 = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

const (
	companyID  = "482913"
	adminToken = "test-admin-token-0123456789"
)

type recorder struct {
	mu   sync.Mutex
	msgs []notify.Mail
}

func (r *recorder) Send(_ context.Context, m notify.Mail) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return nil
}

func (r *recorder) all() []notify.Mail {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Mail(nil), r.msgs...)
}

type env struct {
	t     testing.TB
	srv   *httptest.Server
	plain *httptest.Server
	clk   *clock.Fake
	mails *recorder
	ca    *pki.CA
	dev   wire.Device
}

func newEnv(t testing.TB) *env { return newEnvWith(t, nil) }

// newEnvWith lets a benchmark loosen the onboarding rules (rate limits).
func newEnvWith(t testing.TB, mod func(*enroll.Config)) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := boltstore.Open(filepath.Join(dir, "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ca, _, err := pki.LoadOrCreate(dir, "test CA", true, t0)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(context.Background(), func(tx store.Tx) error {
		tx.PutCompany(store.Company{ID: companyID, Name: "Acme Builders", Timezone: "America/Chicago"})
		tx.PutUser(store.User{CompanyID: companyID, Email: "ada@acme.example", Name: "Ada Admin", Administrator: true})
		tx.PutUser(store.User{CompanyID: companyID, Email: "pat@acme.example", Name: "Pat Payroll"})
		return tx.PutAdminToken(store.AdminToken{Hash: store.TokenHash(adminToken), CompanyID: companyID, UserEmail: "ada@acme.example"})
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, clk: clock.NewFake(t0), mails: &recorder{}, ca: ca,
		dev: wire.Device{Serial: "BN65-000042", Model: "BN6500", Firmware: "1.2.0"}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := enroll.DefaultConfig()
	cfg.MQTT = wire.Endpoints{TLS: "localhost:19777", WebSocket: "wss://localhost:19778/mqtt"}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := enroll.New(cfg, enroll.Deps{Store: db, CA: ca, Mailer: e.mails, Clock: e.clk, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(NewAPI(Deps{Onboarding: svc, Store: db, Clock: e.clk, Log: log}))
	t.Cleanup(e.srv.Close)
	e.plain = httptest.NewServer(NewPlain(e.clk, log))
	t.Cleanup(e.plain.Close)
	return e
}

// call posts v as JSON to path and decodes the answer into out (on 2xx)
// or returns the wire.Error.
func (e *env) call(path string, v, out any) (int, *wire.Error) {
	e.t.Helper()
	b, _ := json.Marshal(v)
	resp, err := http.Post(e.srv.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	return decodeResp(e.t, resp, out)
}

func decodeResp(t testing.TB, resp *http.Response, out any) (int, *wire.Error) {
	t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s answered %d with Content-Type %q: %s", resp.Request.URL.Path, resp.StatusCode, ct, body)
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("decoding %s: %v", body, err)
		}
		return resp.StatusCode, nil
	}
	var we wire.Error
	if err := json.Unmarshal(body, &we); err != nil || we.Code == "" {
		t.Fatalf("error answer %d is not a wire.Error: %s", resp.StatusCode, body)
	}
	if StatusOf(we.Code) != resp.StatusCode {
		t.Errorf("%s sent with status %d, want %d", we.Code, resp.StatusCode, StatusOf(we.Code))
	}
	return resp.StatusCode, &we
}

func wantErr(t *testing.T, got *wire.Error, code wire.ErrorCode) *wire.Error {
	t.Helper()
	if got == nil || got.Code != code {
		t.Fatalf("error %v, want %s", got, code)
	}
	return got
}

var codeRE = regexp.MustCompile(`(?m)^    (\d{6})$`)

// requestCode asks for a code and returns the session and the mailed code.
func (e *env) requestCode(resend bool, session string) (wire.CodeResponse, string) {
	e.t.Helper()
	n := len(e.mails.all())
	var resp wire.CodeResponse
	if _, we := e.call(wire.PathCode, wire.CodeRequest{CompanyID: companyID, Device: e.dev, Resend: resend, SessionID: session}, &resp); we != nil {
		e.t.Fatalf("code request: %v", we)
	}
	msgs := e.mails.all()
	if len(msgs) != n+1 {
		e.t.Fatalf("%d new mails, want 1 (the one administrator)", len(msgs)-n)
	}
	m := codeRE.FindStringSubmatch(msgs[n].Body)
	if m == nil {
		e.t.Fatalf("no code in the mail:\n%s", msgs[n].Body)
	}
	return resp, m[1]
}

func (e *env) activate(session, code, csr string) (wire.ActivateResponse, *wire.Error) {
	e.t.Helper()
	var resp wire.ActivateResponse
	_, we := e.call(wire.PathActivate, wire.ActivateRequest{SessionID: session, Code: code, CSR: csr, Device: e.dev}, &resp)
	return resp, we
}

func newCSR(t testing.TB) string {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func other(code string) string {
	if code == "000000" {
		return "999999"
	}
	return "000000"
}

func TestCompanyLookup(t *testing.T) {
	e := newEnv(t)
	var c wire.CompanyResponse
	if _, we := e.call(wire.PathCompany, wire.CompanyRequest{CompanyID: companyID, Device: e.dev}, &c); we != nil {
		t.Fatal(we)
	}
	if c != (wire.CompanyResponse{CompanyID: companyID, Name: "Acme Builders", Timezone: "America/Chicago"}) {
		t.Fatalf("company %+v", c)
	}
	st, we := e.call(wire.PathCompany, wire.CompanyRequest{CompanyID: "111111", Device: e.dev}, &c)
	wantErr(t, we, wire.ErrUnknownCompany)
	if st != http.StatusNotFound || !strings.Contains(we.Message, "111111") {
		t.Errorf("unknown company: %d %v", st, we)
	}
}

func TestWrongCompanyIDsAreRateLimited(t *testing.T) {
	e := newEnv(t)
	var c wire.CompanyResponse
	for i := 0; i < 5; i++ {
		_, we := e.call(wire.PathCompany, wire.CompanyRequest{CompanyID: "11111" + string(rune('0'+i)), Device: e.dev}, &c)
		wantErr(t, we, wire.ErrUnknownCompany)
	}
	// Now even the right ID is refused until the bucket refills.
	b, _ := json.Marshal(wire.CompanyRequest{CompanyID: companyID, Device: e.dev})
	resp, err := http.Post(e.srv.URL+wire.PathCompany, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	st, we := decodeResp(t, resp, &c)
	wantErr(t, we, wire.ErrRateLimited)
	if st != http.StatusTooManyRequests || we.RetryAfter != 60 || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("rate limited: %d retry_after %d header %q", st, we.RetryAfter, resp.Header.Get("Retry-After"))
	}
	_, we = e.call(wire.PathCode, wire.CodeRequest{CompanyID: companyID, Device: e.dev}, &c)
	wantErr(t, we, wire.ErrRateLimited)
	e.clk.Advance(time.Minute)
	if _, we := e.call(wire.PathCompany, wire.CompanyRequest{CompanyID: companyID, Device: e.dev}, &c); we != nil {
		t.Fatalf("after a minute: %v", we)
	}
}

func TestCodeGoesOnlyToTheAdministrator(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.requestCode(false, "")
	if resp.Recipients != 1 || resp.SessionID == "" {
		t.Errorf("response %+v", resp)
	}
	if !resp.ExpiresAt.Equal(t0.Add(10*time.Minute)) || !resp.ResendAfter.Equal(t0.Add(time.Minute)) {
		t.Errorf("expires %v, resend after %v", resp.ExpiresAt, resp.ResendAfter)
	}
	for _, m := range e.mails.all() {
		if strings.Contains(m.To, "pat@") {
			t.Fatal("the non-administrator was mailed")
		}
		if !strings.Contains(m.To, "ada@acme.example") {
			t.Errorf("mailed to %s", m.To)
		}
	}
}

func TestWrongCodesThenBurned(t *testing.T) {
	e := newEnv(t)
	resp, code := e.requestCode(false, "")
	csr := newCSR(t)
	for left := 4; left >= 1; left-- {
		_, we := e.activate(resp.SessionID, other(code), csr)
		if wantErr(t, we, wire.ErrWrongCode).TriesLeft != left {
			t.Fatalf("tries_left %d, want %d", we.TriesLeft, left)
		}
	}
	_, we := e.activate(resp.SessionID, other(code), csr)
	wantErr(t, we, wire.ErrCodeBurned)
	_, we = e.activate(resp.SessionID, code, csr)
	wantErr(t, we, wire.ErrCodeBurned)
	// A new code after the resend wait works.
	e.clk.Advance(time.Minute)
	_, code2 := e.requestCode(true, resp.SessionID)
	if _, we := e.activate(resp.SessionID, code2, csr); we != nil {
		t.Fatalf("resent code after burning: %v", we)
	}
}

func TestCodeExpiresAfterTenMinutes(t *testing.T) {
	e := newEnv(t)
	resp, code := e.requestCode(false, "")
	e.clk.Advance(10 * time.Minute)
	_, we := e.activate(resp.SessionID, code, newCSR(t))
	wantErr(t, we, wire.ErrCodeExpired)
}

func TestResendTooSoonAndInvalidatesOldCode(t *testing.T) {
	e := newEnv(t)
	resp, old := e.requestCode(false, "")
	e.clk.Advance(30 * time.Second)
	var cr wire.CodeResponse
	st, we := e.call(wire.PathCode, wire.CodeRequest{CompanyID: companyID, Device: e.dev, Resend: true, SessionID: resp.SessionID}, &cr)
	wantErr(t, we, wire.ErrResendTooSoon)
	if st != http.StatusTooManyRequests || we.RetryAfter != 30 {
		t.Fatalf("resend too soon: %d retry_after %d", st, we.RetryAfter)
	}
	e.clk.Advance(30 * time.Second)
	resp2, code := e.requestCode(true, resp.SessionID)
	if resp2.SessionID != resp.SessionID {
		t.Errorf("resend changed the session ID")
	}
	if !resp2.ExpiresAt.Equal(t0.Add(11 * time.Minute)) {
		t.Errorf("resent code expires %v", resp2.ExpiresAt)
	}
	if old != code {
		_, we = e.activate(resp.SessionID, old, newCSR(t))
		wantErr(t, we, wire.ErrWrongCode)
	}
	if _, we := e.activate(resp.SessionID, code, newCSR(t)); we != nil {
		t.Fatalf("new code: %v", we)
	}
}

func TestRepeatedRequestKeepsTheCode(t *testing.T) {
	e := newEnv(t)
	resp, code := e.requestCode(false, "")
	// A clock restarted mid-onboarding asks again: same session, no new mail.
	var again wire.CodeResponse
	if _, we := e.call(wire.PathCode, wire.CodeRequest{CompanyID: companyID, Device: e.dev}, &again); we != nil {
		t.Fatal(we)
	}
	if again.SessionID != resp.SessionID || len(e.mails.all()) != 1 {
		t.Fatalf("repeat: session %q vs %q, %d mails", again.SessionID, resp.SessionID, len(e.mails.all()))
	}
	if _, we := e.activate(resp.SessionID, code, newCSR(t)); we != nil {
		t.Fatal(we)
	}
}

func TestActivateSingleUseAndCertificate(t *testing.T) {
	e := newEnv(t)
	resp, code := e.requestCode(false, "")
	csr := newCSR(t)
	act, we := e.activate(resp.SessionID, code, csr)
	if we != nil {
		t.Fatal(we)
	}
	if act.DeviceID == "" || act.Timezone != "America/Chicago" || act.Nickname != "BN6500 BN65-000042" ||
		act.MQTT.TLS != "localhost:19777" || act.MQTT.WebSocket != "wss://localhost:19778/mqtt" ||
		!act.ActivatedAt.Equal(t0) || act.CA != string(e.ca.PEM) {
		t.Errorf("activation %+v", act)
	}
	if ok, _ := regexp.MatchString(`^\d{10}$`, act.TechnicianPasscode); !ok {
		t.Errorf("passcode %q", act.TechnicianPasscode)
	}
	blk, _ := pem.Decode([]byte(act.Certificate))
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(act.CA)) {
		t.Fatal("response CA is not PEM")
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: t0,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("certificate does not verify: %v", err)
	}
	if cert.Subject.CommonName != act.DeviceID {
		t.Errorf("CN %q, device ID %q", cert.Subject.CommonName, act.DeviceID)
	}
	// Single use.
	_, we = e.activate(resp.SessionID, code, csr)
	wantErr(t, we, wire.ErrNoSession)
	// The activation mail carries the passcode; the code mail went first.
	msgs := e.mails.all()
	if len(msgs) != 2 || !strings.Contains(msgs[1].Body, act.TechnicianPasscode) || strings.Contains(msgs[1].To, "pat@") {
		t.Errorf("activation mail: %d mails; %+v", len(msgs), msgs[len(msgs)-1])
	}

	// The device is on the approved list.
	list := e.devices(adminToken)
	if len(list.Approved) != 1 || len(list.Disabled) != 0 {
		t.Fatalf("devices %+v", list)
	}
	row := list.Approved[0]
	if row.ID != act.DeviceID || row.Nickname != act.Nickname || row.Type != "BN6500" || row.Version != "1.2.0" ||
		row.Serial != "BN65-000042" || !row.ActivatedAt.Equal(t0) || !row.LastCheckedIn.IsZero() {
		t.Errorf("row %+v", row)
	}

	// Onboarding the same clock again keeps its ID and nickname.
	e.clk.Advance(time.Hour)
	resp2, code2 := e.requestCode(false, "")
	act2, we := e.activate(resp2.SessionID, code2, newCSR(t))
	if we != nil || act2.DeviceID != act.DeviceID {
		t.Fatalf("onboarding again: %v, ID %q vs %q", we, act2.DeviceID, act.DeviceID)
	}
	if l := e.devices(adminToken); len(l.Approved) != 1 {
		t.Fatalf("onboarding again duplicated the device: %+v", l)
	}
}

func TestBadCSRCostsNoTry(t *testing.T) {
	e := newEnv(t)
	resp, code := e.requestCode(false, "")
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDER, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, rsaKey)
	good := newCSR(t)
	blk, _ := pem.Decode([]byte(good))
	bad := append([]byte(nil), blk.Bytes...)
	bad[len(bad)-3] ^= 0x40
	for name, csr := range map[string]string{
		"bad PEM":       "-----BEGIN CERTIFICATE REQUEST-----\n!!!\n",
		"RSA key":       string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: rsaDER})),
		"bad signature": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: bad})),
	} {
		_, we := e.activate(resp.SessionID, code, csr)
		if wantErr(t, we, wire.ErrBadCSR); we.Message == "" {
			t.Errorf("%s: no message", name)
		}
	}
	if _, we := e.activate(resp.SessionID, code, good); we != nil {
		t.Fatalf("right code after bad CSRs: %v", we)
	}
}

func (e *env) admin(method, path, token string) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (e *env) devices(token string) DeviceList {
	e.t.Helper()
	resp, b := e.admin("GET", "/api/v1/devices", token)
	var l DeviceList
	if resp.StatusCode != 200 || json.Unmarshal(b, &l) != nil {
		e.t.Fatalf("devices: %d %s", resp.StatusCode, b)
	}
	return l
}

func TestAdminAPIErrorsAreJSON(t *testing.T) {
	e := newEnv(t)
	if l := e.devices(adminToken); l.CompanyID != companyID || l.Approved == nil || l.Disabled == nil {
		t.Errorf("empty list %+v (want [] not null)", l)
	}
	for _, tc := range []struct {
		method, path, token string
		status              int
		code                wire.ErrorCode
	}{
		{"GET", "/api/v1/devices", "", 401, wire.ErrUnauthorized},
		{"GET", "/api/v1/devices", "wrong-token", 401, wire.ErrUnauthorized},
		{"POST", "/api/v1/devices/abc/disable", adminToken, 501, wire.ErrNotImplemented},
		{"GET", "/api/v1/punches?device=abc", adminToken, 404, wire.ErrNotFound},
		{"GET", "/api/v1/punches", adminToken, 400, wire.ErrBadRequest},
		{"POST", "/api/v1/devices/abc/rename", adminToken, 501, wire.ErrNotImplemented},
		{"DELETE", "/api/v1/roster", adminToken, 405, wire.ErrBadRequest},
		{"DELETE", "/api/v1/devices", adminToken, 405, wire.ErrBadRequest},
		{"GET", wire.PathActivate, "", 405, wire.ErrBadRequest},
		{"GET", "/no/such/page", "", 404, wire.ErrNotFound},
	} {
		resp, b := e.admin(tc.method, tc.path, tc.token)
		var we wire.Error
		if resp.StatusCode != tc.status || json.Unmarshal(b, &we) != nil || we.Code != tc.code {
			t.Errorf("%s %s: %d %s; want %d %s", tc.method, tc.path, resp.StatusCode, b, tc.status, tc.code)
		}
	}
}

func TestWrongAdminTokensAreRateLimited(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 9; i++ { // 10 wrong tokens are allowed at once
		e.admin("GET", "/api/v1/devices", "guess")
	}
	if resp, _ := e.admin("GET", "/api/v1/devices", "guess"); resp.StatusCode != 401 {
		t.Fatalf("10th wrong token: %d", resp.StatusCode)
	}
	resp, b := e.admin("GET", "/api/v1/devices", adminToken)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 10 wrong tokens: %d %s", resp.StatusCode, b)
	}
}

func TestPlainTimeAndReachability(t *testing.T) {
	e := newEnv(t)
	e.clk.Advance(90 * time.Second)
	for _, url := range []string{e.plain.URL, e.srv.URL} {
		resp, err := http.Get(url + wire.PathTime)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		d, err := http.ParseTime(resp.Header.Get("Date"))
		if resp.StatusCode != http.StatusNoContent || err != nil || !d.Equal(t0.Add(90*time.Second)) {
			t.Errorf("%s: %d Date %q, want 204 and %v", url, resp.StatusCode, resp.Header.Get("Date"), t0.Add(90*time.Second))
		}
		resp, err = http.Get(url + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "timeclock") {
			t.Errorf("%s/: %d %q", url, resp.StatusCode, b)
		}
	}
	resp, err := http.Get(e.plain.URL + wire.PathActivate)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if _, we := decodeResp(t, resp, &x); we == nil || we.Code != wire.ErrNotFound {
		t.Errorf("API path on the plain port: %v", we)
	}
}

func TestBadBodyIsBadRequest(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Post(e.srv.URL+wire.PathCode, "application/json", strings.NewReader(`{"company_id":`))
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if st, we := decodeResp(t, resp, &x); st != 400 || we == nil || we.Code != wire.ErrBadRequest {
		t.Fatalf("truncated JSON: %d %v", st, we)
	}
	if len(e.mails.all()) != 0 {
		t.Fatal("a bad request sent mail")
	}
}

type fakeDevClock struct{ *clock.Fake }

func (f fakeDevClock) Advance(d time.Duration) time.Time { f.Fake.Advance(d); return f.Now() }

func TestDevClockOnlyWhenEnabled(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.admin("POST", PathDevClock, adminToken)
	if resp.StatusCode != 404 {
		t.Fatalf("dev clock without --dev: %d", resp.StatusCode)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	db, _ := boltstore.Open(filepath.Join(dir, "cloud.db"))
	defer db.Close()
	db.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutAdminToken(store.AdminToken{Hash: store.TokenHash(adminToken), CompanyID: companyID})
	})
	srv := httptest.NewServer(NewAPI(Deps{Store: db, Clock: e.clk, Log: log, DevClock: fakeDevClock{e.clk}}))
	defer srv.Close()
	post := func(body, token string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+PathDevClock, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if st, _ := post(`{"advance_seconds":600}`, ""); st != 401 {
		t.Errorf("without token: %d", st)
	}
	if st, b := post(`{"advance_seconds":0}`, adminToken); st != 400 {
		t.Errorf("zero advance: %d %s", st, b)
	}
	st, b := post(`{"advance_seconds":600}`, adminToken)
	if st != 200 || !e.clk.Now().Equal(t0.Add(10*time.Minute)) || !strings.Contains(b, "15:10:00") {
		t.Errorf("advance: %d %s, clock at %v", st, b, e.clk.Now())
	}
}
