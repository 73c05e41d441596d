// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)): one datagram of "KEY=VALUE" lines to the unix socket
// systemd names in $NOTIFY_SOCKET, and the watchdog interval it asks for in
// $WATCHDOG_USEC. It is a few lines of the standard library, so the commands
// need no dependency for it.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Notifier sends notifications to systemd. A nil *Notifier (not started by
// systemd) accepts every call and sends nothing.
type Notifier struct {
	addr     *net.UnixAddr
	watchdog time.Duration
}

// FromEnv returns the notifier systemd's environment describes, or nil when
// $NOTIFY_SOCKET is unset. A socket name starting with "@" is in the
// abstract namespace (Go's unix addresses map "@" to the leading NUL). The
// watchdog interval is $WATCHDOG_USEC when $WATCHDOG_PID is unset or names
// pid; getenv is os.Getenv outside tests.
func FromEnv(getenv func(string) string, pid int) (*Notifier, error) {
	sock := getenv("NOTIFY_SOCKET")
	if sock == "" {
		return nil, nil
	}
	if sock[0] != '/' && sock[0] != '@' {
		return nil, fmt.Errorf("sdnotify: NOTIFY_SOCKET %q is neither a path nor an abstract (@) name", sock)
	}
	n := &Notifier{addr: &net.UnixAddr{Name: sock, Net: "unixgram"}}
	if us := getenv("WATCHDOG_USEC"); us != "" {
		if p := getenv("WATCHDOG_PID"); p != "" && p != strconv.Itoa(pid) {
			return n, nil // the watchdog is another process's
		}
		v, err := strconv.ParseUint(us, 10, 63)
		if err != nil || v == 0 {
			return nil, fmt.Errorf("sdnotify: WATCHDOG_USEC %q is not a positive number of microseconds", us)
		}
		n.watchdog = time.Duration(v) * time.Microsecond
	}
	return n, nil
}

// Watchdog is the interval within which systemd expects WATCHDOG=1 (its
// WatchdogSec=), or 0 when it keeps no watchdog on this process.
func (n *Notifier) Watchdog() time.Duration {
	if n == nil {
		return 0
	}
	return n.watchdog
}

// Notify sends state, one or more "KEY=VALUE" lines ("READY=1",
// "STATUS=idle", "WATCHDOG=1"), in one datagram.
func (n *Notifier) Notify(state string) error {
	if n == nil {
		return nil
	}
	if state == "" {
		return errors.New("sdnotify: empty state")
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}

// The states the commands send.
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Watchdog = "WATCHDOG=1"
)

// Status is the STATUS= line systemctl status shows; a newline in s would
// start another key, so it becomes a space.
func Status(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return "STATUS=" + string(b)
}
