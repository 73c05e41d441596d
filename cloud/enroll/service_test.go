package enroll

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/cloud/notify"
	"timeclock/cloud/notify/smtptest"
	"timeclock/cloud/pki"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/internal/await"
	"timeclock/internal/syncbuf"
	"timeclock/wire"
)

var update = flag.Bool("update", false, "rewrite golden files")

// recorder is a Mailer that keeps what it was given.
type recorder struct {
	mu   sync.Mutex
	msgs []notify.Mail
	fail bool
}

func (r *recorder) Send(_ context.Context, m notify.Mail) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("mail server down")
	}
	r.msgs = append(r.msgs, m)
	return nil
}

func (r *recorder) all() []notify.Mail {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Mail(nil), r.msgs...)
}

type fixture struct {
	svc *Service
	clk *clock.Fake
	log *syncbuf.Buffer
	db  store.Store
	ca  *pki.CA
}

const company = "482913"

func newFixture(t *testing.T, m notify.Mailer) *fixture {
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
		tx.PutCompany(store.Company{ID: company, Name: "Acme Builders", Timezone: "America/Chicago"})
		tx.PutUser(store.User{CompanyID: company, Email: "ada@acme.example", Name: "Ada Admin", Administrator: true})
		tx.PutUser(store.User{CompanyID: company, Email: "bob@acme.example", Name: "Bob Boss", Administrator: true})
		return tx.PutUser(store.User{CompanyID: company, Email: "pat@acme.example", Name: "Pat Payroll"})
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clk: clock.NewFake(t0), log: &syncbuf.Buffer{}, db: db, ca: ca}
	cfg := DefaultConfig()
	cfg.MailFrom = "Timeclock Cloud <noreply@cloud.example>"
	cfg.MQTT = wire.Endpoints{TLS: "cloud.example:59777", WebSocket: "wss://cloud.example:59778/mqtt"}
	f.svc, err = New(cfg, Deps{Store: db, CA: ca, Mailer: m, Clock: f.clk,
		Log: slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var dev = wire.Device{Serial: "BN65-000042", Model: "BN6500", Firmware: "1.2.0"}

func csr(t *testing.T) string {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

var codeRE = regexp.MustCompile(`(?m)^    (\d{6})\r?$`)

func codeIn(t *testing.T, body string) string {
	t.Helper()
	m := codeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no code in mail:\n%s", body)
	}
	return m[1]
}

func TestCodeGoesOnlyToAdministrators(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, rec)
	resp, err := f.svc.RequestCode(context.Background(), "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Recipients != 2 {
		t.Errorf("recipients %d, want 2", resp.Recipients)
	}
	msgs := rec.all()
	var to []string
	for _, m := range msgs {
		to = append(to, m.To)
	}
	if strings.Join(to, ",") != `"Ada Admin" <ada@acme.example>,"Bob Boss" <bob@acme.example>` {
		t.Fatalf("mailed to %v, want the two administrators only", to)
	}
	if codeIn(t, msgs[0].Body) != codeIn(t, msgs[1].Body) {
		t.Error("the administrators got different codes")
	}
}

// The mails' wording is kept in golden files; -update rewrites them.
func TestMailTextGolden(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, rec)
	resp, err := f.svc.RequestCode(context.Background(), "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	code := codeIn(t, rec.all()[0].Body)
	act, err := f.svc.Activate(context.Background(), "192.0.2.7", wire.ActivateRequest{SessionID: resp.SessionID, Code: code, CSR: csr(t), Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	msgs := rec.all()
	if len(msgs) != 4 {
		t.Fatalf("%d mails, want 2 code + 2 activation", len(msgs))
	}
	for _, g := range []struct {
		file string
		m    notify.Mail
		vars map[string]string
	}{
		{"code-mail.txt", msgs[0], map[string]string{code: "CODE"}},
		{"activated-mail.txt", msgs[2], map[string]string{act.TechnicianPasscode: "PASSCODE", act.DeviceID: "DEVICEID"}},
	} {
		text := "Subject: " + g.m.Subject + "\n\n" + g.m.Body
		for k, v := range g.vars {
			text = strings.ReplaceAll(text, k, v)
		}
		path := filepath.Join("testdata", g.file)
		if *update {
			os.WriteFile(path, []byte(text), 0o644)
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if text != string(want) {
			t.Errorf("%s differs:\n%s", path, text)
		}
	}
	if !strings.Contains(msgs[2].Body, act.TechnicianPasscode) {
		t.Error("activation mail lacks the technician passcode")
	}
}

// No code, passcode or certificate key material ever reaches the log.
func TestSecretsNeverLogged(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, rec)
	ctx := context.Background()
	resp, err := f.svc.RequestCode(ctx, "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	code := codeIn(t, rec.all()[0].Body)
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	f.svc.Activate(ctx, "192.0.2.7", wire.ActivateRequest{SessionID: resp.SessionID, Code: wrong, CSR: csr(t), Device: dev})
	f.clk.Advance(time.Minute)
	resp2, err := f.svc.RequestCode(ctx, "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev, Resend: true, SessionID: resp.SessionID})
	if err != nil {
		t.Fatal(err)
	}
	code2 := codeIn(t, rec.all()[2].Body)
	act, err := f.svc.Activate(ctx, "192.0.2.7", wire.ActivateRequest{SessionID: resp2.SessionID, Code: code2, CSR: csr(t), Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	log := f.log.String()
	if !strings.Contains(log, "-> activated") {
		t.Fatalf("the log is not the one under test:\n%s", log)
	}
	for name, secret := range map[string]string{"code": code, "resent code": code2, "wrong code": wrong, "passcode": act.TechnicianPasscode} {
		if strings.Contains(log, secret) {
			t.Errorf("the %s %s is in the log:\n%s", name, secret, log)
		}
	}
}

func TestMailFailureVoidsTheCode(t *testing.T) {
	rec := &recorder{fail: true}
	f := newFixture(t, rec)
	ctx := context.Background()
	_, err := f.svc.RequestCode(ctx, "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev})
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.ErrInternal || !strings.Contains(we.Message, "could not be sent") {
		t.Fatalf("err %v, want an internal error saying the mail failed", err)
	}
	// Asking again at once sends a new code rather than claiming the
	// failed one stands.
	rec.mu.Lock()
	rec.fail = false
	rec.mu.Unlock()
	resp, err := f.svc.RequestCode(ctx, "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev})
	if err != nil || resp.Recipients != 2 || len(rec.all()) != 2 {
		t.Fatalf("retry after a failed mail: %v, %+v, %d mails", err, resp, len(rec.all()))
	}
}

func TestNoAdministrators(t *testing.T) {
	f := newFixture(t, &recorder{})
	f.db.Update(context.Background(), func(tx store.Tx) error {
		tx.PutCompany(store.Company{ID: "777001", Name: "Nobody Inc", Timezone: "UTC"})
		return tx.PutUser(store.User{CompanyID: "777001", Email: "pat@nobody.example"})
	})
	_, err := f.svc.RequestCode(context.Background(), "192.0.2.7", wire.CodeRequest{CompanyID: "777001", Device: dev})
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.ErrNoAdmins {
		t.Fatalf("err %v, want no_admins", err)
	}
}

// A real SMTP server with STARTTLS and AUTH gets the code mail for each
// administrator and nothing for the non-administrator, and the code it
// carries activates the clock.
func TestSMTPDeliversToAdministratorsOnly(t *testing.T) {
	srv := smtptest.Start(t)
	m, err := notify.NewSMTP(notify.SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: notify.StartTLS,
		User: srv.User, Password: notify.Secret(srv.Pass), RootCAs: srv.Roots})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, m)
	ctx := context.Background()
	resp, err := f.svc.RequestCode(ctx, "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.WaitMails(t, 2, 10*time.Second)
	var rcpts []string
	for _, g := range got {
		if !g.TLS {
			t.Error("mail delivered without TLS")
		}
		rcpts = append(rcpts, g.To...)
		if strings.Contains(string(g.Data), "pat@acme.example") {
			t.Error("the non-administrator's address is in a mail")
		}
	}
	if strings.Join(rcpts, ",") != "ada@acme.example,bob@acme.example" {
		t.Fatalf("recipients %v, want the administrators only", rcpts)
	}
	body := got[0].Body()
	for _, w := range []string{"Acme Builders", "BN6500", "BN65-000042", "expires at", "CST"} {
		if !strings.Contains(body, w) {
			t.Errorf("mail lacks %q:\n%s", w, body)
		}
	}
	if _, err := f.svc.Activate(ctx, "192.0.2.7", wire.ActivateRequest{SessionID: resp.SessionID,
		Code: codeIn(t, body), CSR: csr(t), Device: dev}); err != nil {
		t.Fatalf("the mailed code does not activate: %v", err)
	}
	for _, g := range srv.WaitMails(t, 4, 10*time.Second) {
		for _, r := range g.To {
			if r == "pat@acme.example" {
				t.Fatal("the non-administrator got a mail")
			}
		}
	}
}

func TestPurgeRemovesOldSessions(t *testing.T) {
	f := newFixture(t, &recorder{})
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := f.svc.RequestCode(ctx, "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- f.svc.Run(ctx) }()
	gone := func() bool {
		err := f.db.View(ctx, func(tx store.Tx) error { _, err := tx.Session(resp.SessionID); return err })
		return errors.Is(err, store.ErrNotFound)
	}
	// The first purge runs at once and re-arms the hourly timer.
	await.True(t, 10*time.Second, func() bool { return f.clk.Timers() == 1 }, "purge never armed its timer")
	if gone() {
		t.Fatal("a live session was purged")
	}
	f.clk.Advance(25 * time.Hour)
	await.True(t, 10*time.Second, gone, "a session a day past its expiry was not purged")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestDisabledClockNeedsEnabling: a clock an administrator disabled gets no
// code and no activation ("disabled": the clock's screen says to ask them
// to enable it) until one enables it again; then it onboards under its old
// ID and is approved again.
func TestDisabledClockNeedsEnabling(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, rec)
	ctx := context.Background()
	put := func(mod func(*store.Device)) {
		t.Helper()
		err := f.db.Update(ctx, func(tx store.Tx) error {
			d, err := tx.DeviceBySerial(company, dev.Serial)
			if errors.Is(err, store.ErrNotFound) {
				d = store.Device{ID: "00aa11bb22cc33dd", CompanyID: company, Serial: dev.Serial, Nickname: "Yard gate"}
			} else if err != nil {
				return err
			}
			mod(&d)
			return tx.PutDevice(d)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	activate := func() (wire.ActivateResponse, error) {
		r, err := f.svc.RequestCode(ctx, "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev})
		if err != nil {
			return wire.ActivateResponse{}, err
		}
		msgs := rec.all()
		return f.svc.Activate(ctx, "192.0.2.7", wire.ActivateRequest{SessionID: r.SessionID, Code: codeIn(t, msgs[len(msgs)-1].Body), CSR: csr(t), Device: dev})
	}
	// A session started while it was approved, then disabled: activation
	// refuses it too, and the code stays unused.
	put(func(d *store.Device) { d.Status = store.DeviceApproved })
	r, err := f.svc.RequestCode(ctx, "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	put(func(d *store.Device) {
		d.Status, d.DisabledAt, d.DisabledBy = store.DeviceDisabled, t0, "ada@acme.example"
	})
	_, err = f.svc.Activate(ctx, "192.0.2.7", wire.ActivateRequest{SessionID: r.SessionID, Code: codeIn(t, rec.all()[0].Body), CSR: csr(t), Device: dev})
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.ErrDisabled || !strings.Contains(we.Message, "enable") {
		t.Fatalf("activation of a disabled clock: %v", err)
	}
	n := len(rec.all())
	_, err = f.svc.RequestCode(ctx, "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev, Resend: true, SessionID: r.SessionID})
	if !errors.As(err, &we) || we.Code != wire.ErrDisabled || len(rec.all()) != n {
		t.Fatalf("code for a disabled clock: %v, %d mails more", err, len(rec.all())-n)
	}
	// Enabled again: it onboards under its old ID, approved, the marks gone.
	put(func(d *store.Device) { d.EnabledAt, d.EnabledBy = t0, "ada@acme.example" })
	f.clk.Advance(2 * time.Minute)
	resp, err := activate()
	if err != nil || resp.DeviceID != "00aa11bb22cc33dd" {
		t.Fatalf("after enabling: %+v %v", resp, err)
	}
	f.db.View(ctx, func(tx store.Tx) error {
		d, _ := tx.Device("00aa11bb22cc33dd")
		if d.Status != store.DeviceApproved || !d.EnabledAt.IsZero() || d.EnabledBy != "" || d.DisabledBy != "" {
			t.Errorf("device after onboarding again %+v", d)
		}
		return nil
	})
}

// TestResendKeepsTheSession pins the one rule for sessions (docs/cloud.md):
// a resend answers the same session ID with a new code, and the old code
// stops working (a wrong try); a new request after 60 s opens a new session
// and the old ID stops working (no_session).
func TestResendKeepsTheSession(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, rec)
	ctx := context.Background()
	first, err := f.svc.RequestCode(ctx, "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	code1 := codeIn(t, rec.all()[0].Body)
	f.clk.Advance(time.Minute)
	again, err := f.svc.RequestCode(ctx, "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev, Resend: true, SessionID: first.SessionID})
	if err != nil {
		t.Fatal(err)
	}
	if again.SessionID != first.SessionID {
		t.Fatalf("a resend answered session %s, want the same %s", again.SessionID, first.SessionID)
	}
	code2 := codeIn(t, rec.all()[1].Body)
	if code2 == code1 {
		t.Skip("the new code happens to equal the old one (1 in a million)")
	}
	_, err = f.svc.Activate(ctx, "192.0.2.7", wire.ActivateRequest{SessionID: first.SessionID, Code: code1, CSR: csr(t), Device: dev})
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.ErrWrongCode {
		t.Fatalf("the replaced code: %v, want wrong_code", err)
	}

	// A new request (no resend) a minute later: a new session; the old
	// ID no longer works, whatever the code.
	f.clk.Advance(time.Minute)
	fresh, err := f.svc.RequestCode(ctx, "192.0.2.7", wire.CodeRequest{CompanyID: company, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	if fresh.SessionID == first.SessionID {
		t.Fatal("a new request after 60 s kept the old session")
	}
	_, err = f.svc.Activate(ctx, "192.0.2.7", wire.ActivateRequest{SessionID: first.SessionID, Code: code2, CSR: csr(t), Device: dev})
	if !errors.As(err, &we) || we.Code != wire.ErrNoSession {
		t.Fatalf("the old session after a new one: %v, want no_session", err)
	}
	code3 := codeIn(t, rec.all()[2].Body)
	if _, err := f.svc.Activate(ctx, "192.0.2.7", wire.ActivateRequest{SessionID: fresh.SessionID, Code: code3, CSR: csr(t), Device: dev}); err != nil {
		t.Fatalf("the new session's code: %v", err)
	}
}
