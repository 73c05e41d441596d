// Package devoutbox is the dev cloud's stand-in for sending: each message
// becomes a file in a directory and is printed, framed and labelled, to the
// cloud's standard output so a person running the dev cloud can read it. It
// deliberately shows what production never logs; only --dev mode uses it.
package devoutbox

import (
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

// Box is one outbox: the mailer's (DEV MAIL) or the texter's (DEV SMS).
type Box struct {
	dir   string
	print io.Writer // nil: files only
	label string    // "DEV MAIL", "DEV SMS"

	mu sync.Mutex // serialises prints so two messages never interleave
}

// New returns a box writing into dir (created 0700).
func New(dir string, print io.Writer, label string) (*Box, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%s outbox: %w", strings.ToLower(label), err)
	}
	return &Box{dir: dir, print: print, label: label}, nil
}

// Dir is where the files go.
func (b *Box) Dir() string { return b.dir }

// Save writes data to a new file (mode 0600) named after the time, the
// recipient's address and ext, then prints shown framed by the label and
// addressed to to (the recipient as a person reads it). It returns the
// file's path.
func (b *Box) Save(at time.Time, addr, to, ext string, data []byte, shown string) (string, error) {
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
