package cloudsync

import (
	"strings"
	"testing"
	"time"

	"timeclock/internal/await"
	"timeclock/internal/fakecloud"
)

// TestWebSocketFallback: when 59777 cannot be reached the clock syncs over
// the secure WebSocket, and reconnects there first afterwards.
func TestWebSocketFallback(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  func(t *testing.T, fc *fakecloud.Cloud) string
	}{
		{"nothing listening", func(t *testing.T, fc *fakecloud.Cloud) string { return closedPort(t) }},
		{"packets swallowed", func(t *testing.T, fc *fakecloud.Cloud) string { return newGate(t, fc.TLSAddr()).addr() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := fakecloud.New(t)
			c := newClock(t, fc, "dev-fb")
			c.id.MQTT.TLS = tc.tls(t, fc)
			cfg := testConfig()
			cfg.ConnectTimeout = 500 * time.Millisecond // what a swallowed handshake costs
			c.punch(5)
			c.start(cfg)
			c.waitDrained(fc, 5)
			if !strings.HasPrefix(c.s.Link(), "wss ") {
				t.Fatalf("link %q, want the WebSocket", c.s.Link())
			}
			// The broker restarts: the clock comes back over the WebSocket
			// first, without waiting on 59777 again.
			fc.Restart()
			c.punch(1)
			c.waitDrained(fc, 6)
			if !strings.Contains(c.logs.String(), "mqtt transport tls -> wss") {
				t.Error("the move to the WebSocket is not logged")
			}
			if n := strings.Count(c.logs.String(), "mqtt transport"); n != 1 {
				t.Errorf("transport changed %d times, want once (the WebSocket is remembered)", n)
			}
		})
	}
}

// TestBackToTLS: on the WebSocket, the clock probes 59777 now and then and
// moves back once it answers.
func TestBackToTLS(t *testing.T) {
	fc := fakecloud.New(t)
	c := newClock(t, fc, "dev-back")
	g := newGate(t, fc.TLSAddr())
	c.id.MQTT.TLS = g.addr()
	cfg := testConfig()
	cfg.ConnectTimeout = 500 * time.Millisecond
	cfg.RetryPreferred = 200 * time.Millisecond
	c.start(cfg)
	await.True(t, wait, func() bool { return strings.HasPrefix(c.s.Link(), "wss ") }, "not on the WebSocket: %q", c.s.Link())
	await.True(t, wait, func() bool { return g.attempts() >= 2 }, "59777 never probed again")
	g.setOpen(true)
	await.True(t, wait, func() bool { return strings.HasPrefix(c.s.Link(), "tls ") }, "not back on TLS: %q", c.s.Link())
	c.punch(2)
	c.waitDrained(fc, 2)
}
