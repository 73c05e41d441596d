package notify

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"timeclock/cloud/notify/smtptest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var when = time.Date(2026, 3, 2, 9, 41, 0, 0, time.UTC)

func msg() Mail {
	return Mail{
		From:    "Timeclock Cloud <noreply@cloud.example>",
		To:      "Ada Admin <ada@acme.example>",
		Subject: "Authentication code for Café Zürich",
		Body:    "Your code is 123456.\nIt expires at 09:51.\n",
		Date:    when,
	}
}

func TestMailBytesGolden(t *testing.T) {
	b, err := msg().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	// The Message-ID is random; the rest is fixed.
	b = regexp.MustCompile(`Message-ID: <[0-9a-f]+@`).ReplaceAll(b, []byte("Message-ID: <ID@"))
	golden := filepath.Join("testdata", "message.eml")
	if *update {
		os.WriteFile(golden, b, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("message differs from %s:\n%s", golden, b)
	}
}

func TestMailRefusesInjection(t *testing.T) {
	for name, m := range map[string]Mail{
		"subject":  {From: "a@b.example", To: "c@d.example", Subject: "hi\r\nBcc: e@f.example"},
		"to":       {From: "a@b.example", To: "c@d.example\r\nBcc: e@f.example"},
		"bad from": {From: "not an address", To: "c@d.example"},
	} {
		if _, err := m.Bytes(); !errors.Is(err, ErrBadMail) {
			t.Errorf("%s: err %v, want ErrBadMessage", name, err)
		}
	}
}

func TestMailOutboxWritesFileAndPrints(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	var out bytes.Buffer
	o, err := NewMailOutbox(dir, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Send(context.Background(), msg()); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("outbox files: %v", files)
	}
	b, _ := os.ReadFile(files[0])
	if !bytes.Contains(b, []byte("Your code is 123456.")) || !bytes.Contains(b, []byte("To: \"Ada Admin\" <ada@acme.example>")) {
		t.Errorf("eml file:\n%s", b)
	}
	if !strings.Contains(filepath.Base(files[0]), "ada@acme.example") {
		t.Errorf("file name %s does not name the recipient", files[0])
	}
	p := out.String()
	for _, w := range []string{"DEV MAIL to Ada Admin <ada@acme.example>", "Subject: Authentication code for Café Zürich", "Your code is 123456.", "end of DEV MAIL"} {
		if !strings.Contains(p, w) {
			t.Errorf("print lacks %q:\n%s", w, p)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("config", "password", s, "cfg", SMTPConfig{Password: s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %#v %+v", s, s, s, SMTPConfig{Password: s}), logBuf.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret printed: %s", out)
		}
	}
}

func smtpConfig(s *smtptest.Server) SMTPConfig {
	return SMTPConfig{Host: s.Host, Port: s.Port, TLS: StartTLS, User: s.User, Password: Secret(s.Pass), RootCAs: s.Roots}
}

func TestSMTPStartTLSAuth(t *testing.T) {
	srv := smtptest.Start(t)
	m, err := NewSMTP(smtpConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), msg()); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitMails(t, 1, 10*time.Second)
	g := got[0]
	if g.From != "noreply@cloud.example" || len(g.To) != 1 || g.To[0] != "ada@acme.example" {
		t.Errorf("envelope from %q to %v", g.From, g.To)
	}
	if !g.TLS || g.User != srv.User {
		t.Errorf("delivered without TLS (%v) or auth (%q)", g.TLS, g.User)
	}
	if !strings.Contains(g.Body(), "Your code is 123456.") {
		t.Errorf("body:\n%s", g.Body())
	}
	if g.Header("Subject") == "" {
		t.Error("no subject")
	}
}

func TestSMTPFailures(t *testing.T) {
	srv := smtptest.Start(t)
	for _, tc := range []struct {
		name string
		mod  func(*SMTPConfig)
		want string
	}{
		{"wrong password", func(c *SMTPConfig) { c.Password = "wrong-pass" }, "auth"},
		{"untrusted server", func(c *SMTPConfig) { c.RootCAs = nil }, "starttls"},
		{"no tls, auth refused in the clear", func(c *SMTPConfig) { c.TLS = NoTLS; c.Host = "localhost" }, "auth"},
		{"no auth", func(c *SMTPConfig) { c.User, c.Password = "", "" }, "mail from"},
		{"closed port", func(c *SMTPConfig) { c.Port = closedPort(t) }, "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smtpConfig(srv)
			tc.mod(&cfg)
			m, err := NewSMTP(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = m.Send(context.Background(), msg())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), srv.Pass) || strings.Contains(err.Error(), "wrong-pass") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
	if n := len(srv.Mails()); n != 0 {
		t.Errorf("%d mails delivered by failing configs", n)
	}
}

func TestSMTPCancelledContext(t *testing.T) {
	srv := smtptest.Start(t)
	m, _ := NewSMTP(smtpConfig(srv))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Send(ctx, msg()); err == nil {
		t.Fatal("send on a cancelled context succeeded")
	}
}

func TestSMTPConfigValidate(t *testing.T) {
	err := SMTPConfig{Port: 0, TLS: "maybe", User: "u"}.Validate()
	for _, w := range []string{"host", "port", "maybe", "password"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate error %v lacks %q", err, w)
		}
	}
}

type failing struct{ n int }

func (f *failing) Send(context.Context, Mail) error { f.n++; return errors.New("down") }

type counting struct{ n int }

func (c *counting) Send(context.Context, Mail) error { c.n++; return nil }

func TestMailTeeTriesAll(t *testing.T) {
	f, c := &failing{}, &counting{}
	err := MailTee{f, c}.Send(context.Background(), msg())
	if err == nil || f.n != 1 || c.n != 1 {
		t.Fatalf("err %v, tries %d/%d", err, f.n, c.n)
	}
}
