package broker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// mochi logs whole packets: "failed publishing packet" (debug) with a
// roster command's salt and PIN hashes, "error processing packet" (warn)
// with up to a megabyte of a refused client's bytes, a CONNECT's password,
// a will's payload. logFilter stands between mochi and our log: an MQTT
// packet or will becomes its type, topic, size and packet ID; any other
// value that is not a plain scalar becomes its type name; strings (client
// IDs and topics come from the network) are capped; and each message is
// rate-limited, so a client that keeps failing cannot flood the log.
type logFilter struct {
	next slog.Handler
	lim  *msgLimiter // shared by every handler derived from this one
}

const (
	// maxLogString caps a string value (a client ID, a topic, an error).
	maxLogString = 160
	// Each message passes limitBurst times per limitWindow; the rest are
	// counted and the count rides on the next one that passes.
	limitBurst  = 5
	limitWindow = 10 * time.Second
	// limitKeys bounds the limiter's memory (mochi's messages are a fixed
	// set; this only guards against one built from input).
	limitKeys = 256
)

// newLogFilter wraps h for mochi's logger.
func newLogFilter(h slog.Handler) slog.Handler {
	return &logFilter{next: h, lim: &msgLimiter{seen: map[string]*msgWindow{}}}
}

func (f *logFilter) Enabled(ctx context.Context, l slog.Level) bool { return f.next.Enabled(ctx, l) }

func (f *logFilter) Handle(ctx context.Context, r slog.Record) error {
	at := r.Time
	if at.IsZero() { // a record made without a time would never leave its window
		at = time.Now()
	}
	pass, dropped := f.lim.allow(r.Message, at)
	if !pass {
		return nil
	}
	out := slog.NewRecord(r.Time, r.Level, capString(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(safeAttr(a))
		return true
	})
	if dropped > 0 {
		out.AddAttrs(slog.Int("suppressed", dropped))
	}
	return f.next.Handle(ctx, out)
}

func (f *logFilter) WithAttrs(as []slog.Attr) slog.Handler {
	safe := make([]slog.Attr, len(as))
	for i, a := range as {
		safe[i] = safeAttr(a)
	}
	return &logFilter{next: f.next.WithAttrs(safe), lim: f.lim}
}

func (f *logFilter) WithGroup(name string) slog.Handler {
	return &logFilter{next: f.next.WithGroup(name), lim: f.lim}
}

// safeAttr is a with no payload in it: packets and wills summarized,
// strings capped, unknown kinds of value named by type only.
func safeAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, capString(v.String()))
	case slog.KindGroup:
		g := v.Group()
		safe := make([]any, len(g))
		for i, x := range g {
			safe[i] = safeAttr(x)
		}
		return slog.Group(a.Key, safe...)
	case slog.KindAny:
		return slog.Attr{Key: a.Key, Value: safeAny(v.Any())}
	default: // numbers, bools, durations, times
		return slog.Attr{Key: a.Key, Value: v}
	}
}

func safeAny(x any) slog.Value {
	switch x := x.(type) {
	case packets.Packet:
		return packetSummary(&x)
	case *packets.Packet:
		if x == nil {
			return slog.StringValue("<nil packet>")
		}
		return packetSummary(x)
	case mqtt.Will:
		return slog.GroupValue(slog.String("topic", capString(x.TopicName)), slog.Int("size", len(x.Payload)))
	case *mqtt.Will:
		if x == nil {
			return slog.StringValue("<nil will>")
		}
		return slog.GroupValue(slog.String("topic", capString(x.TopicName)), slog.Int("size", len(x.Payload)))
	case []byte:
		return slog.StringValue(fmt.Sprintf("<%d bytes>", len(x)))
	case error:
		return slog.StringValue(capString(x.Error()))
	case nil:
		return slog.StringValue("<nil>")
	default:
		return slog.StringValue(fmt.Sprintf("<%T>", x))
	}
}

// packetSummary is what may be said about a packet: its type, topic,
// payload size and packet ID. Never its payload, properties, will or
// credentials.
func packetSummary(pk *packets.Packet) slog.Value {
	name, ok := packets.PacketNames[pk.FixedHeader.Type]
	if !ok {
		name = fmt.Sprintf("type %d", pk.FixedHeader.Type)
	}
	as := []slog.Attr{slog.String("type", name)}
	if pk.TopicName != "" {
		as = append(as, slog.String("topic", capString(pk.TopicName)))
	}
	as = append(as, slog.Int("size", len(pk.Payload)))
	if pk.PacketID != 0 {
		as = append(as, slog.Int("packet_id", int(pk.PacketID)))
	}
	return slog.GroupValue(as...)
}

// capString cuts s to maxLogString bytes (on a rune boundary), saying how
// long it was.
func capString(s string) string {
	if len(s) <= maxLogString {
		return s
	}
	cut := maxLogString
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	var b strings.Builder
	b.WriteString(s[:cut])
	fmt.Fprintf(&b, "...(%d bytes)", len(s))
	return b.String()
}

// msgLimiter lets each message through limitBurst times per limitWindow,
// by the records' own times.
type msgLimiter struct {
	mu   sync.Mutex
	seen map[string]*msgWindow // guarded by mu
}

type msgWindow struct {
	start   time.Time
	n       int // passed in this window
	dropped int // dropped since the last one passed
}

// allow reports whether a record with msg at t passes, and how many with
// msg were dropped before it.
func (l *msgLimiter) allow(msg string, t time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.seen[msg]
	if w == nil {
		if len(l.seen) >= limitKeys {
			clear(l.seen)
		}
		w = &msgWindow{start: t}
		l.seen[msg] = w
	}
	if t.Sub(w.start) >= limitWindow || t.Before(w.start) {
		w.start, w.n = t, 0
	}
	if w.n >= limitBurst {
		w.dropped++
		return false, 0
	}
	w.n++
	d := w.dropped
	w.dropped = 0
	return true, d
}
