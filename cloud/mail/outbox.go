package mail

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

	"timeclock/cloud/internal/atomicwrite"
)

// Outbox is the dev mailer: each message becomes an .eml file in Dir and is
// printed, labelled DEV MAIL, to Print (the cloud's standard output) so a
// person running the dev cloud can read the code. It deliberately shows
// what production never logs; it is only used in --dev mode.
type Outbox struct {
	Dir   string
	Print io.Writer

	mu sync.Mutex // serialises prints so two mails never interleave
}

// NewOutbox returns an outbox writing into dir (created 0700).
func NewOutbox(dir string, print io.Writer) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Outbox{Dir: dir, Print: print}, nil
}

// Send writes m to a new .eml file and prints it.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	data, err := m.Bytes()
	if err != nil {
		return err
	}
	_, to, _ := m.envelope()
	r := make([]byte, 3)
	rand.Read(r)
	name := fmt.Sprintf("%s-%s-%s.eml", m.Date.UTC().Format("20060102T150405Z"), fileSafe(to), hex.EncodeToString(r))
	path := filepath.Join(o.Dir, name)
	if err := atomicwrite.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if o.Print == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err = fmt.Fprintf(o.Print, "----- DEV MAIL to %s (saved as %s) -----\nSubject: %s\n\n%s\n----- end of DEV MAIL -----\n",
		m.To, path, m.Subject, strings.TrimRight(m.Body, "\n"))
	return err
}

func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '@', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
