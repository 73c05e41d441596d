package sms

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

	"timeclock/cloud/internal/atomicwrite"
)

// Outbox is the dev SMS sender, like the dev mailer: each message becomes a
// .txt file in Dir and is printed, labelled DEV SMS, to Print (the cloud's
// standard output). Only --dev mode uses it.
type Outbox struct {
	Dir   string
	Print io.Writer

	mu sync.Mutex // serialises prints so two messages never interleave
}

// NewOutbox returns an outbox writing into dir (created 0700).
func NewOutbox(dir string, print io.Writer) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sms outbox: %w", err)
	}
	return &Outbox{Dir: dir, Print: print}, nil
}

// Send writes m to a new file and prints it.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if _, err := ParseUS(string(m.To)); err != nil {
		return fmt.Errorf("sms outbox: %w", err)
	}
	r := make([]byte, 3)
	rand.Read(r)
	name := fmt.Sprintf("%s-%s-%s.txt", m.Date.UTC().Format("20060102T150405Z"),
		strings.TrimPrefix(string(m.To), "+"), hex.EncodeToString(r))
	path := filepath.Join(o.Dir, name)
	data := fmt.Sprintf("To: %s\nDate: %s\n\n%s\n", string(m.To), m.Date.Format(time.RFC1123Z), m.Body)
	if err := atomicwrite.WriteFile(path, []byte(data), 0o600); err != nil {
		return fmt.Errorf("sms outbox: %w", err)
	}
	if o.Print == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err := fmt.Fprintf(o.Print, "----- DEV SMS to %s (saved as %s) -----\n%s\n----- end of DEV SMS -----\n", string(m.To), path, m.Body)
	return err
}
