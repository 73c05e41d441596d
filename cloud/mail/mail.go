// Package mail sends the cloud's mail: over SMTP in production, into a dev
// outbox (files plus a clearly labelled print) in --dev mode. A Message is
// one mail to one recipient, so administrators never see each other's
// addresses.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// Mailer sends a message.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// Message is a plain-text mail to one recipient.
type Message struct {
	From    string // "Name <addr>" or "addr"
	To      string
	Subject string
	Body    string // plain text, lines ended by \n
	Date    time.Time
}

// ErrBadMessage wraps every reason a message cannot be formatted.
var ErrBadMessage = errors.New("bad message")

// Bytes formats the message as RFC 5322 text with CRLF line ends, the body
// quoted-printable so any name or language survives any mail server.
func (m Message) Bytes() ([]byte, error) {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("%w: from %q: %v", ErrBadMessage, m.From, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("%w: to %q: %v", ErrBadMessage, m.To, err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, fmt.Errorf("%w: line break in subject", ErrBadMessage)
	}
	id := make([]byte, 12)
	rand.Read(id)
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from.String())
	hdr("To", to.String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	hdr("Date", m.Date.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, fmt.Errorf("%w: body: %v", ErrBadMessage, err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("%w: body: %v", ErrBadMessage, err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// envelope returns the bare addresses for MAIL FROM and RCPT TO.
func (m Message) envelope() (from, to string, err error) {
	f, err := mail.ParseAddress(m.From)
	if err != nil {
		return "", "", fmt.Errorf("%w: from: %v", ErrBadMessage, err)
	}
	t, err := mail.ParseAddress(m.To)
	if err != nil {
		return "", "", fmt.Errorf("%w: to: %v", ErrBadMessage, err)
	}
	return f.Address, t.Address, nil
}

// Tee sends every message through each mailer in turn (SMTP and the dev
// outbox together); the first error is returned after all were tried.
type Tee []Mailer

// Send sends m through every mailer.
func (t Tee) Send(ctx context.Context, m Message) error {
	var errs []error
	for _, mm := range t {
		if err := mm.Send(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Secret is a password that never prints: not with %v, not in a slog
// record.
type Secret string

func (Secret) String() string { return "[redacted]" }

// GoString keeps %#v from printing it either.
func (Secret) GoString() string { return "[redacted]" }

// LogValue keeps it out of slog records.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }
