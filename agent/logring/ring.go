// Package logring keeps the clock's recent log lines in a bounded ring for
// the serial console's "log" command, and redacts secrets from every log
// line: attributes whose keys look secret (code, pin, passcode, password,
// key, token, secret) are logged as "[redacted]".
package logring

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// MaxLine bounds one stored line; longer lines are cut with "...".
const MaxLine = 512

// Ring holds the last lines logged, oldest first. It is safe for concurrent use.
type Ring struct {
	mu    sync.Mutex
	lines []string // guarded by mu; a circular buffer of cap(lines)
	next  int      // guarded by mu; where the next line goes once full
	full  bool     // guarded by mu
}

// New returns a ring keeping the last n lines (at least 1).
func New(n int) *Ring {
	return &Ring{lines: make([]string, 0, max(n, 1))}
}

// Add stores one line, cut to MaxLine bytes.
func (r *Ring) Add(line string) {
	line = strings.TrimRight(line, "\n")
	if len(line) > MaxLine {
		line = line[:MaxLine-3] + "..."
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		r.lines = append(r.lines, line)
		r.full = len(r.lines) == cap(r.lines)
		return
	}
	r.lines[r.next] = line
	r.next = (r.next + 1) % len(r.lines)
}

// Tail returns the last n lines, oldest first; n <= 0 or more than stored
// returns them all.
func (r *Ring) Tail(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := make([]string, 0, len(r.lines))
	all = append(all, r.lines[r.next:]...)
	all = append(all, r.lines[:r.next]...)
	if n > 0 && n < len(all) {
		all = all[len(all)-n:]
	}
	return all
}

// Cap is how many lines the ring keeps.
func (r *Ring) Cap() int { return cap(r.lines) }

// Write stores p as one line; slog's text handler writes each record with
// a single Write.
func (r *Ring) Write(p []byte) (int, error) {
	r.Add(string(p))
	return len(p), nil
}

// Handler returns a slog.Handler that formats records at level and above as
// text lines into the ring, secrets redacted, times to the second.
func (r *Ring) Handler(level slog.Leveler) slog.Handler {
	return slog.NewTextHandler(r, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
				return slog.String(slog.TimeKey, a.Value.Time().Format(time.RFC3339))
			}
			return Redact(groups, a)
		},
	})
}

// Tee returns a handler that passes every record to each of hs (each
// checking its own level). The clock logs through Tee(stderr handler, ring
// handler).
func Tee(hs ...slog.Handler) slog.Handler { return tee(hs) }

type tee []slog.Handler

func (t tee) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t tee) Handle(ctx context.Context, r slog.Record) error {
	var first error
	for _, h := range t {
		if !h.Enabled(ctx, r.Level) {
			continue
		}
		if err := h.Handle(ctx, r.Clone()); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (t tee) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(tee, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (t tee) WithGroup(name string) slog.Handler {
	out := make(tee, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(name)
	}
	return out
}
