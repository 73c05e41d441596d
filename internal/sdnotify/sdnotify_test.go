package sdnotify

import (
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// listen is a fake systemd: a unixgram socket at name.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func recv(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 4096)
	n, err := c.Read(b)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return string(b[:n])
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestNotifyPathAndAbstractSockets(t *testing.T) {
	for _, tc := range []struct{ name, sock string }{
		{"path", filepath.Join(t.TempDir(), "notify")},
		{"abstract", "@timeclock-sdnotify-test-" + strconv.Itoa(time.Now().Nanosecond())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := listen(t, tc.sock)
			n, err := FromEnv(env(map[string]string{"NOTIFY_SOCKET": tc.sock}), 1)
			if err != nil || n == nil {
				t.Fatalf("FromEnv = %v, %v", n, err)
			}
			if err := n.Notify(Ready + "\n" + Status("idle,\n0 pending")); err != nil {
				t.Fatal(err)
			}
			if got, want := recv(t, c), "READY=1\nSTATUS=idle, 0 pending"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		nilN    bool
		wd      time.Duration
		wantErr bool
	}{
		{name: "not under systemd", env: nil, nilN: true},
		{name: "no watchdog", env: map[string]string{"NOTIFY_SOCKET": "/run/x"}},
		{name: "watchdog", env: map[string]string{"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000"}, wd: 30 * time.Second},
		{name: "watchdog for us", env: map[string]string{"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "500", "WATCHDOG_PID": "7"}, wd: 500 * time.Microsecond},
		{name: "watchdog for another pid", env: map[string]string{"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "500", "WATCHDOG_PID": "8"}},
		{name: "bad usec", env: map[string]string{"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "soon"}, wantErr: true},
		{name: "zero usec", env: map[string]string{"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "0"}, wantErr: true},
		{name: "relative socket", env: map[string]string{"NOTIFY_SOCKET": "run/x"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := FromEnv(env(tc.env), 7)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if (n == nil) != tc.nilN {
				t.Fatalf("notifier = %v, want nil %v", n, tc.nilN)
			}
			if got := n.Watchdog(); got != tc.wd {
				t.Errorf("Watchdog() = %v, want %v", got, tc.wd)
			}
		})
	}
}

func TestNilNotifierSendsNothing(t *testing.T) {
	var n *Notifier
	if err := n.Notify(Ready); err != nil {
		t.Fatal(err)
	}
}
