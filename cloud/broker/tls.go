package broker

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"
)

// tlsListener is MQTT over TLS. It finishes the TLS handshake before the
// broker sees the connection, so a clock's network check (TCP to 59777,
// then close) or a refused certificate is a debug line, not a broker
// warning.
type tlsListener struct {
	id    string
	ln    net.Listener
	cfg   *tls.Config
	log   *slog.Logger
	conns connSet
}

var _ listeners.Listener = (*tlsListener)(nil)

func newTLSListener(id string, ln net.Listener, cfg *tls.Config) *tlsListener {
	return &tlsListener{id: id, ln: ln, cfg: cfg}
}

func (l *tlsListener) ID() string       { return l.id }
func (l *tlsListener) Address() string  { return l.ln.Addr().String() }
func (l *tlsListener) Protocol() string { return "mqtts" }
func (l *tlsListener) Init(log *slog.Logger) error {
	l.log = log
	return nil
}

func (l *tlsListener) Serve(est listeners.EstablishFn) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		if !l.conns.add(c) {
			c.Close()
			return
		}
		go func() {
			defer l.conns.done(c)
			tc := tls.Server(c, l.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			err := tc.HandshakeContext(ctx)
			cancel()
			if err != nil {
				l.log.Debug("mqtt tls handshake", "remote", c.RemoteAddr().String(), "err", err)
				c.Close()
				return
			}
			if err := est(l.id, tc); err != nil {
				l.log.Debug("mqtt client", "remote", c.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

// Close stops accepting, then closes every connection itself and waits for
// the broker to let go of them (see connSet for why not closeClients).
func (l *tlsListener) Close(listeners.CloseFn) {
	l.ln.Close()
	l.conns.closeAll()
}
