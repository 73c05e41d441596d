// Package journald fits a service's text log to the systemd journal when
// stderr goes there: each line starts with its syslog priority ("<3>" for an
// error), which journald reads (sd-daemon(3)), so `journalctl -p warning`
// finds the warnings; and the line's own time goes, since the journal stamps
// every line itself.
package journald

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Stderr reports whether stderr is the journal stream systemd connected:
// $JOURNAL_STREAM ("DEVICE:INODE") names stderr's file. getenv is os.Getenv
// outside tests.
func Stderr(getenv func(string) string, stderr *os.File) bool {
	dev, ino, ok := strings.Cut(getenv("JOURNAL_STREAM"), ":")
	if !ok {
		return false
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(stderr.Fd()), &st); err != nil {
		return false
	}
	return dev == strconv.FormatUint(uint64(st.Dev), 10) && ino == strconv.FormatUint(st.Ino, 10)
}

// Writer prefixes each record slog's TextHandler writes (one Write per
// record) with the priority of its level=; w is the journal stream.
func Writer(w io.Writer) io.Writer { return &writer{w: w} }

type writer struct{ w io.Writer }

// The syslog priorities of slog's levels.
var prefixes = []struct{ level, prefix string }{
	{"level=ERROR", "<3>"},
	{"level=WARN", "<4>"},
	{"level=INFO", "<6>"},
	{"level=DEBUG", "<7>"},
}

func (w *writer) Write(p []byte) (int, error) {
	// level= opens the record, or follows its time= (which has no space).
	rest := p
	if bytes.HasPrefix(rest, []byte("time=")) {
		if i := bytes.IndexByte(rest, ' '); i >= 0 {
			rest = rest[i+1:]
		}
	}
	for _, pr := range prefixes {
		if bytes.HasPrefix(rest, []byte(pr.level)) {
			// One write: the prefix and its line reach journald together.
			if _, err := w.w.Write(append([]byte(pr.prefix), p...)); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return w.w.Write(p)
}

// DropTime wraps a ReplaceAttr (which may be nil) to leave out the record's
// time, which the journal keeps anyway.
func DropTime(next func([]string, slog.Attr) slog.Attr) func([]string, slog.Attr) slog.Attr {
	return func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		if next != nil {
			return next(groups, a)
		}
		return a
	}
}
