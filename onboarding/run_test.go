package onboarding

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/hal"
	"timeclock/hal/sim"
	"timeclock/internal/await"
	"timeclock/internal/fakecloud"
	"timeclock/internal/syncbuf"
	"timeclock/onboarding/identity"
	"timeclock/onboarding/netcheck"
	"timeclock/wire"
)

const (
	theCode     = fakecloud.Code
	thePasscode = fakecloud.Passcode
)

// wait bounds how long a test waits for the screen or the fake cloud: long
// enough for an activation (a P-256 key, a bcrypt hash at the clock's cost)
// under -race on a loaded 2-core machine, where 5 s was seen to run out.
const wait = 20 * time.Second

// fakeCheck is a network check with a fixed report.
type fakeCheck struct{ r netcheck.Report }

func (f fakeCheck) Run(context.Context) netcheck.Report { return f.r }

// flow is one Run of onboarding on a simulated board.
type flow struct {
	t      *testing.T
	board  *sim.Board
	keys   chan hal.KeyEvent
	clk    *clock.Fake
	cloud  *fakecloud.API
	store  *identity.Store
	dir    string
	log    *syncbuf.Buffer
	cancel context.CancelFunc
	done   chan struct{}
	id     *identity.Identity
	err    error
}

// startFlow runs onboarding against cloud through the API client, as the
// clock does.
func startFlow(t *testing.T, dir string, clk *clock.Fake, cloud *fakecloud.API, report netcheck.Report) *flow {
	t.Helper()
	b, err := sim.New(&sim.Opts{Cols: 20, Rows: 4, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	f := &flow{t: t, board: b, keys: make(chan hal.KeyEvent), clk: clk, cloud: cloud, store: identity.NewStore(dir), dir: dir,
		log: &syncbuf.Buffer{}, done: make(chan struct{})}
	// The client checks the test CA's dates on the wall clock.
	api := client(t, cloud)
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go func() {
		defer close(f.done)
		f.id, f.err = Run(ctx, Options{
			Keys: f.keys, Display: b.Display(), Indicator: b.Indicator(), Clock: clk,
			Logger: slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Net:    fakeCheck{report}, Cloud: api, Store: f.store,
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

func (f *flow) logText() string { return f.log.String() }

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
	await.True(f.t, wait, func() bool { return strings.Contains(strings.Join(f.board.Screen(), "\n"), text) },
		"screen never showed %q; it shows %q", text, f.board.Screen())
}

// newCloud is the onboarding API answering from the flow's clock.
func newCloud(t *testing.T, clk *clock.Fake) *fakecloud.API {
	return fakecloud.NewAPI(t, &fakecloud.APIOpts{Now: clk.Now})
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
	// The client counts the cloud's time from the end of the Date header's
	// second, so a code valid 10 minutes shows a second less.
	f.waitScreen("Expires in 9:59")
	// The countdown runs on the clock.
	await.True(t, wait, func() bool { return clk.Timers() > 0 }, "no countdown timer")
	clk.Advance(1500 * time.Millisecond)
	f.waitScreen("Expires in 9:58")
	f.typ("111111")
	f.press(hal.KeyEnter)
	f.waitScreen("Wrong code, 4 left")
	f.typ(theCode)
	f.press(hal.KeyEnter)
	f.waitScreen("America/Chicago")
	f.press(hal.KeyDown, hal.KeyEnter) // the next zone
	<-f.done
	if f.err != nil || f.id == nil || f.id.DeviceID != "dev-77" || f.id.Timezone != "America/New_York" {
		t.Fatalf("Run = %v, %v", f.id, f.err)
	}
	saved, err := f.store.Load()
	if err != nil || saved.Timezone != "America/New_York" || saved.Nickname != "Front door" || !saved.VerifyPasscode(thePasscode) {
		t.Fatalf("stored identity %v %v", saved, err)
	}
	if _, err := os.Stat(filepath.Join(dir, progressFile)); !os.IsNotExist(err) {
		t.Errorf("progress file left after onboarding: %v", err)
	}
	if req := f.cloud.Activations()[1]; req.SessionID != "sess-9" || req.Device.Serial != "TC00AA11BB22" || !strings.Contains(req.CSR, "CERTIFICATE REQUEST") {
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
	f.waitScreen("Expires in 9:59")
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
	if codes, acts := cloud.CodeRequests(), cloud.Activations(); g.err != nil || len(codes) != 1 || acts[0].SessionID != "sess-9" {
		t.Fatalf("resumed run: %v, %d code requests, %+v", g.err, len(codes), acts)
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
	var canceled atomic.Bool
	cloud.Answer(wire.PathCompany, func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // no answer: only the clock ends the lookup
		canceled.Store(true)
	})
	f := startFlow(t, t.TempDir(), clk, cloud, reportWith(okSteps...))
	f.waitScreen("Company ID")
	f.typ("1234")
	f.press(hal.KeyEnter)
	f.waitScreen("Looking it up")
	await.True(t, wait, func() bool { return len(cloud.Requests(wire.PathCompany)) == 1 }, "the lookup never reached the cloud")
	f.press(hal.KeyClear)
	f.waitScreen("> 1234_")
	await.True(t, wait, canceled.Load, "the lookup was not canceled")
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
	f.waitScreen("Expires in 9:59")
	await.True(t, wait, func() bool { return f.clk.Timers() > 0 }, "no timer")
	clk.Advance(time.Minute)
	f.waitScreen("No code yet?")
	f.press(hal.KeyF1)
	f.waitScreen("New code sent")
	if codes := f.cloud.CodeRequests(); len(codes) != 2 || !codes[1].Resend || codes[1].SessionID != "sess-9" {
		t.Fatalf("resend request %+v", codes)
	}
}

func TestRunRefusesAForeignCertificate(t *testing.T) {
	clk := clock.NewFake(t0)
	dir := t.TempDir()
	// The cloud signs a certificate for a key that is not the clock's.
	cloud := newCloud(t, clk)
	other, _ := identity.NewStore(t.TempDir()).Key()
	csrPEM, _ := identity.NewCSR(other, "x")
	blk, _ := pem.Decode(csrPEM)
	foreign, _ := x509.ParseCertificateRequest(blk.Bytes)
	cloud.Answer(wire.PathActivate, fakecloud.Reply(http.StatusOK, cloud.Activation(foreign)))
	f := startFlow(t, dir, clk, cloud, reportWith(okSteps...))
	f.waitScreen("Company ID")
	f.typ(acme.CompanyID)
	f.press(hal.KeyEnter)
	f.waitScreen("Acme")
	f.press(hal.KeyEnter)
	f.waitScreen("Expires in")
	f.typ(theCode)
	f.press(hal.KeyEnter)
	f.waitScreen("Bad cloud answer")
	if _, err := f.store.Load(); !errors.Is(err, identity.ErrNotOnboarded) {
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
