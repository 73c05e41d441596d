package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"timeclock/internal/atomicfile"
)

// The dev outbox is the dev cloud's stand-in for sending: each message
// becomes a file in a directory and is printed, framed and labelled, to the
// cloud's standard output so a person running the dev cloud can read it. It
// deliberately shows what production never logs; only --dev mode uses it.

// MailOutbox is the dev mailer: each message becomes an .eml file and is
// printed, labelled DEV MAIL, to the cloud's standard output so a person
// running the dev cloud can read the code.
type MailOutbox struct{ box *outbox }

// NewMailOutbox returns an outbox writing into dir (created 0700) and
// printing to print (nil: files only).
func NewMailOutbox(dir string, print io.Writer) (*MailOutbox, error) {
	b, err := newOutbox(dir, print, "DEV MAIL")
	if err != nil {
		return nil, err
	}
	return &MailOutbox{box: b}, nil
}

// Send writes m to a new .eml file and prints it.
func (o *MailOutbox) Send(ctx context.Context, m Mail) error {
	data, err := m.Bytes()
	if err != nil {
		return err
	}
	_, addr, _ := m.envelope()
	_, err = o.box.save(m.Date, addr, m.To, "eml", data, "Subject: "+m.Subject+"\n\n"+m.Body)
	return err
}

// SMSOutbox is the dev SMS sender, like the dev mailer: each message
// becomes a .txt file and is printed, labelled DEV SMS.
type SMSOutbox struct{ box *outbox }

// NewSMSOutbox returns an outbox writing into dir (created 0700) and
// printing to print (nil: files only).
func NewSMSOutbox(dir string, print io.Writer) (*SMSOutbox, error) {
	b, err := newOutbox(dir, print, "DEV SMS")
	if err != nil {
		return nil, err
	}
	return &SMSOutbox{box: b}, nil
}

// Send writes m to a new file and prints it.
func (o *SMSOutbox) Send(ctx context.Context, m SMS) error {
	if _, err := ParseUSMobile(string(m.To)); err != nil {
		return fmt.Errorf("sms outbox: %w", err)
	}
	data := fmt.Sprintf("To: %s\nDate: %s\n\n%s\n", string(m.To), m.Date.Format(time.RFC1123Z), m.Body)
	_, err := o.box.save(m.Date, string(m.To), string(m.To), "txt", []byte(data), m.Body)
	return err
}

// outbox is one dev outbox: the mailer's (DEV MAIL) or the texter's
// (DEV SMS).
type outbox struct {
	dir   string
	print io.Writer // nil: files only
	label string    // "DEV MAIL", "DEV SMS"

	mu sync.Mutex // serialises prints so two messages never interleave
}

// newOutbox returns a box writing into dir (created 0700).
func newOutbox(dir string, print io.Writer, label string) (*outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%s outbox: %w", strings.ToLower(label), err)
	}
	return &outbox{dir: dir, print: print, label: label}, nil
}

// save writes data to a new file (mode 0600) named after the time, the
// recipient's address and ext, then prints shown framed by the label and
// addressed to to (the recipient as a person reads it). It returns the
// file's path.
func (b *outbox) save(at time.Time, addr, to, ext string, data []byte, shown string) (string, error) {
	r := make([]byte, 3)
	rand.Read(r)
	name := fmt.Sprintf("%s-%s-%s.%s", at.UTC().Format("20060102T150405Z"), fileSafe(addr), hex.EncodeToString(r), ext)
	path := filepath.Join(b.dir, name)
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return "", fmt.Errorf("%s outbox: %w", strings.ToLower(b.label), err)
	}
	if b.print == nil {
		return path, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	_, err := fmt.Fprintf(b.print, "----- %s to %s (saved as %s) -----\n%s\n----- end of %s -----\n",
		b.label, to, path, strings.TrimRight(shown, "\n"), b.label)
	return path, err
}

// fileSafe keeps a recipient readable in a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '@', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
