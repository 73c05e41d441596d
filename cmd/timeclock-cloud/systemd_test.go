package main

import (
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The cloud started as systemd starts it: READY=1 once it listens,
// WATCHDOG=1 pings while its HTTP listener answers, STOPPING=1 on SIGTERM.
func TestSystemdNotifyFromTheCloud(t *testing.T) {
	sockPath := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Setenv("NOTIFY_SOCKET", sockPath)
	t.Setenv("WATCHDOG_USEC", "900000")
	p := startDev(t, t.TempDir())
	var got []string
	await := func(want string) {
		t.Helper()
		b := make([]byte, 4096)
		for {
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			n, err := c.Read(b)
			if err != nil {
				t.Fatalf("no %q: %v; got %q", want, err, got)
			}
			got = append(got, string(b[:n]))
			if strings.Contains(string(b[:n]), want) {
				return
			}
		}
	}
	await("READY=1")
	await("WATCHDOG=1")
	await("WATCHDOG=1")
	p.p.Cmd.Process.Signal(syscall.SIGTERM)
	await("STOPPING=1")
}

func TestLoopback(t *testing.T) {
	for in, want := range map[string]string{":80": "127.0.0.1:80", "[::]:80": "127.0.0.1:80", "0.0.0.0:8080": "127.0.0.1:8080", "10.0.0.1:80": "10.0.0.1:80"} {
		if got := loopback(in); got != want {
			t.Errorf("loopback(%q) = %q, want %q", in, got, want)
		}
	}
}
