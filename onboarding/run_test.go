package onboarding

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/hal"
	"timeclock/hal/sim"
	"timeclock/internal/await"
	"timeclock/internal/testpki"
	"timeclock/onboarding/identity"
	"timeclock/onboarding/netcheck"
	"timeclock/wire"
)

const (
	theCode     = "739164"
	thePasscode = "tech-551234"
)

// fakeNet is a network check with a fixed report.
type fakeCheck struct{ r netcheck.Report }

func (f fakeCheck) Run(context.Context) netcheck.Report { return f.r }

// fakeCloud answers like the cloud, from the fake clock; it records what
// it was asked.
type fakeCloud struct {
	t   *testing.T
	ca  *testpki.CA
	clk *clock.Fake

	mu        sync.Mutex
	companies []string
	codes     []wire.CodeRequest
	activates []wire.ActivateRequest
	block     chan struct{} // Company waits on it (or ctx) when set
	canceled  bool
}

func (f *fakeCloud) Company(ctx context.Context, req wire.CompanyRequest) (wire.CompanyResponse, error) {
	f.mu.Lock()
	f.companies = append(f.companies, req.CompanyID)
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			f.mu.Lock()
			f.canceled = true
			f.mu.Unlock()
			return wire.CompanyResponse{}, ctx.Err()
		}
	}
	if req.CompanyID != acme.CompanyID {
		return wire.CompanyResponse{}, &wire.Error{Code: wire.ErrUnknownCompany}
	}
	return acme, nil
}

func (f *fakeCloud) RequestCode(_ context.Context, req wire.CodeRequest) (CodeAnswer, error) {
	f.mu.Lock()
	f.codes = append(f.codes, req)
	f.mu.Unlock()
	now := f.clk.Now()
	return CodeAnswer{CodeResponse: wire.CodeResponse{SessionID: "sess-9", ExpiresAt: now.Add(10 * time.Minute), ResendAfter: now.Add(time.Minute), Recipients: 1}, ServerTime: now}, nil
}

func (f *fakeCloud) Activate(_ context.Context, req wire.ActivateRequest) (wire.ActivateResponse, error) {
	f.mu.Lock()
	f.activates = append(f.activates, req)
	f.mu.Unlock()
	if req.Code != theCode {
		return wire.ActivateResponse{}, &wire.Error{Code: wire.ErrWrongCode, TriesLeft: 4}
	}
	blk, _ := pem.Decode([]byte(req.CSR))
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		return wire.ActivateResponse{}, &wire.Error{Code: wire.ErrBadCSR}
	}
	return wire.ActivateResponse{
		DeviceID: "dev-77", Certificate: string(f.ca.SignCSR(f.t, csr, "dev-77")), CA: string(f.ca.PEM()),
		MQTT: wire.Endpoints{TLS: "cloud.example:59777"}, Timezone: "America/Chicago", Nickname: "Front door",
		TechnicianPasscode: thePasscode, ActivatedAt: f.clk.Now(),
	}, nil
}

// flow is one Run of onboarding on a simulated board.
type flow struct {
	t      *testing.T
	board  *sim.Board
	keys   chan hal.KeyEvent
	clk    *clock.Fake
	cloud  *fakeCloud
	store  *identity.Store
	dir    string
	log    *bytes.Buffer
	logMu  *sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	id     *identity.Identity
	err    error
}

type lockedBuf struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func startFlow(t *testing.T, dir string, clk *clock.Fake, cloud *fakeCloud, report netcheck.Report) *flow {
	t.Helper()
	b, err := sim.New(&sim.Opts{Cols: 20, Rows: 4, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	f := &flow{t: t, board: b, keys: make(chan hal.KeyEvent), clk: clk, cloud: cloud, store: identity.NewStore(dir), dir: dir,
		log: &bytes.Buffer{}, logMu: &sync.Mutex{}, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go func() {
		defer close(f.done)
		f.id, f.err = Run(ctx, Options{
			Keys: f.keys, Display: b.Display(), Indicator: b.Indicator(), Clock: clk,
			Logger: slog.New(slog.NewTextHandler(lockedBuf{f.logMu, f.log}, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Net:    fakeCheck{report}, Cloud: cloud, Store: f.store,
			Device: wire.Device{Serial: "TC00AA11BB22", Model: "sim", Firmware: "test"}, CloudURL: "https://cloud.example",
			Ports: netcheck.DefaultPorts, StateDir: dir,
		})
	}()
	t.Cleanup(func() { f.stop(); b.Halt() })
	return f
}

func (f *flow) stop() {
	f.cancel()
	<-f.done
}

func (f *flow) logText() string {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.log.String()
}

func (f *flow) press(ks ...hal.Key) {
	for _, k := range ks {
		select {
		case f.keys <- hal.KeyEvent{Key: k}:
		case <-f.done:
			f.t.Fatalf("onboarding ended (%v) before key %s", f.err, k)
		}
	}
}

func (f *flow) typ(s string) {
	for _, c := range s {
		f.press(hal.Key(c - '0'))
	}
}

func (f *flow) waitScreen(text string) {
	f.t.Helper()
	await.True(f.t, 5*time.Second, func() bool { return strings.Contains(strings.Join(f.board.Screen(), "\n"), text) },
		"screen never showed %q; it shows %q", text, f.board.Screen())
}

func newCloud(t *testing.T, clk *clock.Fake) *fakeCloud {
	return &fakeCloud{t: t, ca: testpki.NewCA(t, "cloud"), clk: clk}
}

func TestRunHappyPath(t *testing.T) {
	clk := clock.NewFake(t0)
	dir := t.TempDir()
	f := startFlow(t, dir, clk, newCloud(t, clk), reportWith(okSteps...))
	f.waitScreen("Company ID")
	f.typ("482913")
	f.press(hal.KeyEnter)
	f.waitScreen("Acme Builders")
	f.press(hal.KeyEnter)
	f.waitScreen("Expires in 10:00")
	// The countdown runs on the clock.
	await.True(t, 5*time.Second, func() bool { return clk.Timers() > 0 }, "no countdown timer")
	clk.Advance(1500 * time.Millisecond)
	f.waitScreen("Expires in 9:59")
	f.typ("111111")
	f.press(hal.KeyEnter)
	f.waitScreen("Wrong code, 4 left")
	f.typ(theCode)
	f.press(hal.KeyEnter)
	f.waitScreen("America/Chicago")
	f.press(hal.KeyDown, hal.KeyEnter) // the next zone
	<-f.done
	if f.err != nil || f.id == nil || f.id.DeviceID != "dev-77" || f.id.Timezone != "UTC" {
		t.Fatalf("Run = %v, %v", f.id, f.err)
	}
	saved, err := f.store.Load()
	if err != nil || saved.Timezone != "UTC" || saved.Nickname != "Front door" || !saved.VerifyPasscode(thePasscode) {
		t.Fatalf("stored identity %v %v", saved, err)
	}
	if _, err := os.Stat(filepath.Join(dir, progressFile)); !os.IsNotExist(err) {
		t.Errorf("progress file left after onboarding: %v", err)
	}
	if req := f.cloud.activates[1]; req.SessionID != "sess-9" || req.Device.Serial != "TC00AA11BB22" || !strings.Contains(req.CSR, "CERTIFICATE REQUEST") {
		t.Errorf("activate request %+v", req)
	}
	if l := f.board.Lights(); l.Buzzer != "ok" {
		t.Errorf("buzzer %q after activation, want ok", l.Buzzer)
	}
	// No secret in the log: the code typed, the passcode, the key.
	logs := f.logText()
	d := saved.Key.D.String()
	for _, secret := range []string{theCode, "111111", thePasscode, d, "PRIVATE KEY"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds a secret %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"from=company_entry to=company_lookup", "reason=\"wrong code\"", "to=done"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

// TestRunResumesAfterReboot: the clock stops at the code; started again it
// checks the network and comes back to the same code session.
func TestRunResumesAfterReboot(t *testing.T) {
	clk := clock.NewFake(t0)
	dir := t.TempDir()
	cloud := newCloud(t, clk)
	f := startFlow(t, dir, clk, cloud, reportWith(okSteps...))
	f.waitScreen("Company ID")
	f.typ("482913")
	f.press(hal.KeyEnter)
	f.waitScreen("Acme")
	f.press(hal.KeyEnter)
	f.waitScreen("Expires in 10:00")
	f.typ("73") // typed digits are not kept
	f.stop()
	b, err := os.ReadFile(filepath.Join(dir, progressFile))
	if err != nil || !bytes.Contains(b, []byte(`"state": "code_entry"`)) || bytes.Contains(b, []byte("73")) {
		t.Fatalf("progress %s %v", b, err)
	}
	clk.Advance(3 * time.Minute)
	g := startFlow(t, dir, clk, cloud, reportWith(okSteps...))
	g.waitScreen("Expires in 7:00")
	g.typ(theCode)
	g.press(hal.KeyEnter)
	g.waitScreen("Local time")
	g.press(hal.KeyEnter)
	<-g.done
	if g.err != nil || len(cloud.codes) != 1 || cloud.activates[0].SessionID != "sess-9" {
		t.Fatalf("resumed run: %v, %d code requests, %+v", g.err, len(cloud.codes), cloud.activates)
	}
	if !strings.Contains(g.logText(), "onboarding resumes") {
		t.Errorf("no resume log line:\n%s", g.logText())
	}
	// Much later the code has expired: the clock resumes at the company.
	clk2 := clock.NewFake(t0)
	dir2 := t.TempDir()
	h := startFlow(t, dir2, clk2, newCloud(t, clk2), reportWith(okSteps...))
	h.waitScreen("Company ID")
	h.typ("482913")
	h.press(hal.KeyEnter)
	h.waitScreen("Acme")
	h.press(hal.KeyEnter)
	h.waitScreen("Expires in")
	h.stop()
	clk2.Advance(20 * time.Minute)
	i := startFlow(t, dir2, clk2, newCloud(t, clk2), reportWith(okSteps...))
	i.waitScreen("Your company?")
}

func TestRunSetsAsideDamagedProgress(t *testing.T) {
	clk := clock.NewFake(t0)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, progressFile), []byte(`{"version":1,"state":"activating"`), 0o600)
	f := startFlow(t, dir, clk, newCloud(t, clk), reportWith(okSteps...))
	f.waitScreen("Company ID")
	if _, err := os.Stat(filepath.Join(dir, progressFile+".bad")); err != nil {
		t.Fatalf("damaged progress not set aside: %v", err)
	}
	if !strings.Contains(f.logText(), "set aside") {
		t.Errorf("no clear log line:\n%s", f.logText())
	}
}

func TestRunCancelLookup(t *testing.T) {
	clk := clock.NewFake(t0)
	cloud := newCloud(t, clk)
	cloud.block = make(chan struct{})
	f := startFlow(t, t.TempDir(), clk, cloud, reportWith(okSteps...))
	f.waitScreen("Company ID")
	f.typ("1")
	f.press(hal.KeyEnter)
	f.waitScreen("Looking it up")
	f.press(hal.KeyClear)
	f.waitScreen("> 1_")
	await.True(t, 5*time.Second, func() bool { cloud.mu.Lock(); defer cloud.mu.Unlock(); return cloud.canceled }, "the lookup was not canceled")
}

func TestRunNetworkProblemAndHelp(t *testing.T) {
	clk := clock.NewFake(t0)
	r := portBlocked()
	f := startFlow(t, t.TempDir(), clk, newCloud(t, clk), r)
	f.waitScreen("Port 59777 blocked")
	if l := f.board.Lights(); l.Buzzer != "error" {
		t.Errorf("buzzer %q on a problem, want error", l.Buzzer)
	}
	f.press(hal.KeyEnter)
	f.waitScreen("Company ID")
	f.typ("482913")
	f.press(hal.KeyEnter)
	f.waitScreen("Acme")
	f.press(hal.KeyEnter)
	f.waitScreen("Expires in 10:00")
	await.True(t, 5*time.Second, func() bool { return f.clk.Timers() > 0 }, "no timer")
	clk.Advance(time.Minute)
	f.waitScreen("No code yet?")
	f.press(hal.KeyF1)
	f.waitScreen("New code sent")
	if len(f.cloud.codes) != 2 || !f.cloud.codes[1].Resend || f.cloud.codes[1].SessionID != "sess-9" {
		t.Fatalf("resend request %+v", f.cloud.codes)
	}
}

// foreignCertCloud signs a certificate for a key that is not the clock's.
type foreignCertCloud struct{ *fakeCloud }

func (f foreignCertCloud) Activate(ctx context.Context, req wire.ActivateRequest) (wire.ActivateResponse, error) {
	other := identity.NewStore(f.t.TempDir())
	k, _ := other.Key()
	csrPEM, _ := identity.NewCSR(k, "x")
	req.CSR = string(csrPEM)
	return f.fakeCloud.Activate(ctx, req)
}

func TestRunRefusesAForeignCertificate(t *testing.T) {
	clk := clock.NewFake(t0)
	dir := t.TempDir()
	b, _ := sim.New(&sim.Opts{Cols: 20, Rows: 4, Now: clk.Now})
	defer b.Halt()
	keys := make(chan hal.KeyEvent)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, Options{Keys: keys, Display: b.Display(), Clock: clk, Net: fakeCheck{reportWith(okSteps...)},
			Cloud: foreignCertCloud{newCloud(t, clk)}, Store: identity.NewStore(dir), StateDir: dir,
			Device: wire.Device{Serial: "TC1"}, Ports: netcheck.DefaultPorts})
	}()
	defer func() { cancel(); <-done }()
	wait := func(s string) {
		await.True(t, 5*time.Second, func() bool { return strings.Contains(strings.Join(b.Screen(), "\n"), s) }, "no %q: %q", s, b.Screen())
	}
	press := func(ks ...hal.Key) {
		for _, k := range ks {
			keys <- hal.KeyEvent{Key: k}
		}
	}
	wait("Company ID")
	for _, c := range "482913" {
		press(hal.Key(c - '0'))
	}
	press(hal.KeyEnter)
	wait("Acme")
	press(hal.KeyEnter)
	wait("Expires in")
	for _, c := range theCode {
		press(hal.Key(c - '0'))
	}
	press(hal.KeyEnter)
	wait("Bad cloud answer")
	if _, err := identity.NewStore(dir).Load(); !errors.Is(err, identity.ErrNotOnboarded) {
		t.Fatalf("a foreign certificate was saved: %v", err)
	}
}

func TestRunNeedsItsParts(t *testing.T) {
	if _, err := Run(context.Background(), Options{}); err == nil {
		t.Fatal("Run without parts")
	}
	_ = errors.New
}

func FuzzDecodeProgress(f *testing.F) {
	good, _ := json.Marshal(progress{Version: 1, State: "code_entry", CompanyID: acme.CompanyID, Company: &acme,
		Session: &savedSession{ID: "s", ExpiresAt: t0}})
	f.Add(good)
	f.Add([]byte(`{"version":1,"state":"company_confirm","company_id":"1","company":{"company_id":"1","name":"A"}}`))
	f.Add([]byte(`{"version":1,"state":"activating"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodeProgress(b)
		if err != nil {
			return
		}
		m := p.apply(Model{State: StateNetCheck, Seq: 1})
		if m.Company.Name == "" || (p.State == "code_entry" && m.Session.ID == "") {
			t.Fatalf("accepted %+v", p)
		}
	})
}
