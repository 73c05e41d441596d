package broker

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"timeclock/internal/await"
	"timeclock/internal/syncbuf"
)

// secretForms are the ways a secret could show in a log: as text, as Go
// prints a byte slice (decimal), in hex and in base64.
func secretForms(secret string) []string {
	dec := fmt.Sprint([]byte(secret))
	return []string{secret, strings.TrimSuffix(dec, "]"), hex.EncodeToString([]byte(secret)),
		base64.StdEncoding.EncodeToString([]byte(secret))[:8]}
}

func assertNoSecret(t *testing.T, log, secret string) {
	t.Helper()
	for _, f := range secretForms(secret) {
		if strings.Contains(log, f) {
			t.Errorf("the log has the secret %q (as %q):\n%s", secret, f, log)
		}
	}
}

// TestLogFilterSummarizesPackets: the records mochi writes with whole
// packets (names and attributes copied from its source) come out with the
// packet's type, topic, size and ID only.
func TestLogFilterSummarizesPackets(t *testing.T) {
	const salt, pass, will = `"salt":"c2VjcmV0LXNhbHQtMTIz"`, "hunter2-connect-pass", "will-payload-secret"
	var buf bytes.Buffer
	log := slog.New(newLogFilter(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	pub := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "tc/v1/dev1/cmd",
		PacketID: 7, Payload: []byte(`{"type":"roster",` + salt + `}`)}
	conn := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	conn.Connect.Password, conn.Connect.PasswordFlag = []byte(pass), true
	log.Debug("failed publishing packet", "error", errors.New("io: read/write on closed pipe"), "client", "dev1", "packet", &pub)
	log.Warn("error processing packet", "error", packets.ErrProtocolViolationSecondConnect, "client", "dev1", "listener", "mqtts", "pk", conn)
	log.Error("parse will error", "error", io.EOF, "hook", "x", "will", mqtt.Will{TopicName: "tc/v1/dev1/status", Payload: []byte(will)})
	log.With("raw", []byte(will)).Info("with attrs", "opaque", struct{ P []byte }{[]byte(will)})
	out := buf.String()
	for _, s := range []string{salt, "c2VjcmV0LXNhbHQtMTIz", pass, will} {
		assertNoSecret(t, out, s)
	}
	for _, want := range []string{
		"packet.type=Publish packet.topic=tc/v1/dev1/cmd packet.size=", "packet.packet_id=7",
		"pk.type=Connect pk.size=0", "will.topic=tc/v1/dev1/status will.size=19",
		"raw=\"<19 bytes>\"", "opaque=\"<struct { P []uint8 }>\"", "client=dev1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}

// TestLogFilterCapsAndRateLimits: a client ID of 64 KiB is cut short; a
// message repeated a thousand times in a second is written limitBurst
// times, and the next window's first one says how many were dropped.
func TestLogFilterCapsAndRateLimits(t *testing.T) {
	var buf bytes.Buffer
	h := newLogFilter(slog.NewTextHandler(&buf, nil))
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	long := strings.Repeat("x", 64<<10)
	for i := range 1000 {
		r := slog.NewRecord(t0.Add(time.Duration(i)*time.Millisecond), slog.LevelWarn, "error processing packet", 0)
		r.AddAttrs(slog.String("client", long))
		if err := h.Handle(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(buf.String(), "error processing packet"); n != limitBurst {
		t.Errorf("%d lines in the first window, want %d", n, limitBurst)
	}
	if len(buf.String()) > limitBurst*(maxLogString+200) {
		t.Errorf("%d bytes of log for %d capped lines", buf.Len(), limitBurst)
	}
	buf.Reset()
	r := slog.NewRecord(t0.Add(limitWindow+time.Second), slog.LevelWarn, "error processing packet", 0)
	h.Handle(t.Context(), r)
	if !strings.Contains(buf.String(), fmt.Sprintf("suppressed=%d", 1000-limitBurst)) {
		t.Errorf("the next window's line: %q", buf.String())
	}
	// Another message has its own budget.
	buf.Reset()
	r = slog.NewRecord(t0, slog.LevelDebug, "client disconnected", 0)
	h.Handle(t.Context(), r)
	if !strings.Contains(buf.String(), "client disconnected") {
		t.Errorf("another message was limited: %q", buf.String())
	}
}

// TestBrokerLogsNoPacket: a real client sends a second CONNECT (mochi
// refuses it with "error processing packet", dumping the packet) carrying
// a password and a will, twenty times over; the broker's log at debug has
// neither, and no more than the rate limit's lines.
func TestBrokerLogsNoPacket(t *testing.T) {
	p := newPKI(t)
	var logBuf syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := Start(Config{TLSAddr: "127.0.0.1:0", Certificate: p.server, ClientCAs: p.pool,
		Allowed: func(string, string) bool { return true }, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	const pass, will = "hunter2-second-connect", "will-payload-with-a-secret"
	cert := p.issue(t, "dev1", x509.ExtKeyUsageClientAuth)
	start := time.Now()
	const tries = 20
	for range tries {
		secondConnect(t, p, b.TLSAddr(), cert, pass, will)
	}
	await.True(t, 30*time.Second, func() bool { return strings.Contains(logBuf.String(), "error processing packet") },
		"mochi never refused the second CONNECT:\n%s", logBuf.String())
	out := logBuf.String()
	assertNoSecret(t, out, pass)
	assertNoSecret(t, out, will)
	if !strings.Contains(out, "pk.type=Connect") {
		t.Errorf("the refusal does not name the packet's type:\n%s", out)
	}
	windows := 1 + int(time.Since(start)/limitWindow)
	if n := strings.Count(out, "error processing packet"); n > limitBurst*windows {
		t.Errorf("%d refusals logged in %d rate windows, want at most %d", n, windows, limitBurst*windows)
	}
}

// secondConnect connects as dev1 and, once accepted, sends a CONNECT again
// (a protocol violation) with a password and a will.
func secondConnect(t *testing.T, p *testPKI, addr string, cert tls.Certificate, pass, will string) {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{cert}, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	connect := func(withSecrets bool) []byte {
		pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4}
		pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), Keepalive: 30, Clean: true, ClientIdentifier: "dev1"}
		if withSecrets {
			pk.Connect.UsernameFlag, pk.Connect.Username = true, []byte("dev1")
			pk.Connect.PasswordFlag, pk.Connect.Password = true, []byte(pass)
			pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillPayload = true, "tc/v1/dev1/status", []byte(will)
		}
		var buf bytes.Buffer
		if err := pk.ConnectEncode(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if _, err := c.Write(connect(false)); err != nil {
		t.Fatal(err)
	}
	ack := make([]byte, 4)
	if _, err := io.ReadFull(c, ack); err != nil || ack[0]>>4 != packets.Connack || ack[3] != 0 {
		t.Fatalf("connack % x: %v", ack, err)
	}
	c.Write(connect(true))
	// mochi closes the connection after the violation.
	io.Copy(io.Discard, c)
}
