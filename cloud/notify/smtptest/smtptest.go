// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// a loopback port for tests: STARTTLS with a throwaway CA, PLAIN AUTH
// required, and every accepted mail kept for the test to read.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"timeclock/internal/await"
)

// Server is the running test server.
type Server struct {
	Host  string // 127.0.0.1
	Port  int
	User  string
	Pass  string
	Roots *x509.CertPool // trusts the server's certificate
	CAPEM []byte         // the same, PEM, for a --smtp-ca file

	mu   sync.Mutex
	got  []Mail // guarded by mu
	srv  *smtp.Server
	done chan struct{}
}

// Mail is one delivered message.
type Mail struct {
	From string
	To   []string
	Data []byte
	User string // who authenticated
	TLS  bool   // whether the session was TLS when DATA came
}

// Body is the message body, quoted-printable decoded.
func (m Mail) Body() string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	b, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	return string(b)
}

// Header returns a header of the message.
func (m Mail) Header(k string) string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	return msg.Header.Get(k)
}

// Start runs a server that wants STARTTLS before AUTH and AUTH before MAIL.
func Start(t testing.TB) *Server {
	t.Helper()
	cert, caPEM, roots := selfSigned(t)
	s := &Server{Host: "127.0.0.1", User: "mailer", Pass: "s3cret-smtp-pass", Roots: roots, CAPEM: caPEM, done: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.srv.AllowInsecureAuth = false
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	t.Cleanup(func() {
		s.srv.Close()
		// Close only closes listeners Serve has registered; one closed
		// before its goroutine ran would accept forever.
		ln.Close()
		<-s.done
	})
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Mails returns what was delivered so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.got...)
}

// WaitMails waits until at least n mails arrived and returns them all.
func (s *Server) WaitMails(t testing.TB, n int, timeout time.Duration) []Mail {
	t.Helper()
	await.True(t, timeout, func() bool { return len(s.Mails()) >= n }, "smtp server got %d mails, want %d", len(s.Mails()), n)
	return s.Mails()
}

type session struct {
	s    *Server
	c    *smtp.Conn
	user string
	m    Mail
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.User || pass != ss.s.Pass {
			return errors.New("invalid username or password")
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.m = Mail{From: from, User: ss.user}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.m.To = append(ss.m.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, ss.m.TLS = ss.c.TLSConnectionState()
	ss.m.Data = b
	ss.s.mu.Lock()
	ss.s.got = append(ss.s.got, ss.m)
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.m = Mail{} }
func (ss *session) Logout() error { return nil }

func selfSigned(t testing.TB) (tls.Certificate, []byte, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pool
}
