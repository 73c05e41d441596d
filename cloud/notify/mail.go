package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// Mailer sends a message.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// Mail is a plain-text mail to one recipient.
type Mail struct {
	From    string // "Name <addr>" or "addr"
	To      string
	Subject string
	Body    string // plain text, lines ended by \n
	Date    time.Time
}

// ErrBadMail wraps every reason a message cannot be formatted.
var ErrBadMail = errors.New("bad message")

// Bytes formats the message as RFC 5322 text with CRLF line ends, the body
// quoted-printable so any name or language survives any mail server.
func (m Mail) Bytes() ([]byte, error) {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("%w: from %q: %v", ErrBadMail, m.From, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("%w: to %q: %v", ErrBadMail, m.To, err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, fmt.Errorf("%w: line break in subject", ErrBadMail)
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
		return nil, fmt.Errorf("%w: body: %v", ErrBadMail, err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("%w: body: %v", ErrBadMail, err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// envelope returns the bare addresses for MAIL FROM and RCPT TO.
func (m Mail) envelope() (from, to string, err error) {
	f, err := mail.ParseAddress(m.From)
	if err != nil {
		return "", "", fmt.Errorf("%w: from: %v", ErrBadMail, err)
	}
	t, err := mail.ParseAddress(m.To)
	if err != nil {
		return "", "", fmt.Errorf("%w: to: %v", ErrBadMail, err)
	}
	return f.Address, t.Address, nil
}

// MailTee sends every message through each mailer in turn (SMTP and the dev
// outbox together); the errors are joined after all were tried.
type MailTee []Mailer

// Send sends m through every mailer.
func (t MailTee) Send(ctx context.Context, m Mail) error { return sendEach(ctx, t, m) }
