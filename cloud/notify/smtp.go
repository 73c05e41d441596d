package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"strconv"
	"time"
)

// TLSMode is how the SMTP connection is secured.
type TLSMode string

// The TLS modes.
const (
	// StartTLS upgrades a plain connection (port 587) and fails if the
	// server does not offer it.
	StartTLS TLSMode = "starttls"
	// ImplicitTLS speaks TLS from the first byte (port 465).
	ImplicitTLS TLSMode = "tls"
	// NoTLS sends in the clear: only for a relay on the same host.
	NoTLS TLSMode = "none"
)

// SMTPConfig says how to reach the mail server.
type SMTPConfig struct {
	Host     string
	Port     int
	TLS      TLSMode
	User     string // empty: no AUTH
	Password Secret
	// RootCAs verifies the server; nil means the system roots.
	RootCAs *x509.CertPool
	// HelloName is sent in EHLO; empty sends "localhost".
	HelloName string
	// Timeout bounds one whole send when the context has no deadline.
	Timeout time.Duration
}

// Validate checks the config.
func (c SMTPConfig) Validate() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("smtp host: missing"))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("smtp port: %d out of range", c.Port))
	}
	switch c.TLS {
	case StartTLS, ImplicitTLS, NoTLS:
	default:
		errs = append(errs, fmt.Errorf("smtp tls: %q: want starttls, tls or none", c.TLS))
	}
	if c.User != "" && c.Password == "" {
		errs = append(errs, errors.New("smtp password: missing for user "+c.User))
	}
	return errors.Join(errs...)
}

// SMTP sends each message over its own connection: onboarding mail is
// rare, and a fresh connection has no stale state to go wrong.
type SMTP struct {
	cfg SMTPConfig
}

// NewSMTP returns a mailer for cfg.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	return &SMTP{cfg: cfg}, nil
}

// Send delivers m to the server.
func (s *SMTP) Send(ctx context.Context, m Mail) error {
	data, err := m.Bytes()
	if err != nil {
		return err
	}
	from, to, err := m.envelope()
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
	}
	if err := s.send(ctx, from, to, data); err != nil {
		return fmt.Errorf("smtp %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}

func (s *SMTP) send(ctx context.Context, from, to string, data []byte) error {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	tlsCfg := &tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	// net/smtp has no context: a cancelled context closes the connection
	// under it, and the deadline bounds every read and write.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if s.cfg.TLS == ImplicitTLS {
		conn = tls.Client(conn, tlsCfg)
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HelloName); err != nil {
		return err
	}
	if s.cfg.TLS == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("server does not offer STARTTLS")
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if s.cfg.User != "" {
		// PlainAuth refuses to send the password unless the connection is
		// TLS (or to localhost).
		if err := c.Auth(smtp.PlainAuth("", s.cfg.User, string(s.cfg.Password), s.cfg.Host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return c.Quit()
}
