package broker

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// wsListener is MQTT over secure WebSocket. It is ours rather than mochi's
// so the connection handed to the broker still tells the client's
// certificate (the device's identity).
type wsListener struct {
	id       string
	ln       net.Listener
	srv      *http.Server
	upgrader websocket.Upgrader
	mu       sync.Mutex
	est      listeners.EstablishFn
	log      *slog.Logger
	conns    connSet // hijacked connections: http.Server no longer tracks them
}

var _ listeners.Listener = (*wsListener)(nil)

func newWSListener(id string, ln net.Listener, cfg *tls.Config) *wsListener {
	l := &wsListener{
		id: id,
		ln: tls.NewListener(ln, cfg),
		upgrader: websocket.Upgrader{
			Subprotocols:    []string{"mqtt"},
			ReadBufferSize:  16 << 10,
			WriteBufferSize: 16 << 10,
			// Devices are not browsers; there is no origin to check.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/mqtt", l.handle)
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return l
}

func (l *wsListener) ID() string       { return l.id }
func (l *wsListener) Address() string  { return l.ln.Addr().String() }
func (l *wsListener) Protocol() string { return "wss" }
func (l *wsListener) Init(log *slog.Logger) error {
	l.log = log
	return nil
}

func (l *wsListener) Serve(est listeners.EstablishFn) {
	l.mu.Lock()
	l.est = est
	l.mu.Unlock()
	if l.log != nil {
		// Handshake failures here are clients' doing (a clock's port probe,
		// a wrong certificate): debug, and through slog, not stderr.
		l.srv.ErrorLog = slog.NewLogLogger(l.log.Handler(), slog.LevelDebug)
	}
	err := l.srv.Serve(l.ln)
	if err != nil && !errors.Is(err, http.ErrServerClosed) && l.log != nil {
		l.log.Error("mqtt websocket listener", "err", err)
	}
}

// Close stops accepting, then closes every connection itself and waits for
// the broker to let go of them (see connSet for why not closeClients).
func (l *wsListener) Close(listeners.CloseFn) {
	l.srv.Close()
	l.conns.closeAll()
}

func (l *wsListener) handle(w http.ResponseWriter, r *http.Request) {
	c, err := l.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	raw := c.UnderlyingConn()
	if !l.conns.add(raw) {
		c.Close()
		return
	}
	defer l.conns.done(raw)
	defer c.Close()
	l.mu.Lock()
	est := l.est
	l.mu.Unlock()
	conn := &wsConn{Conn: raw, c: c}
	if r.TLS != nil {
		conn.state = *r.TLS
	}
	if err := est(l.id, conn); err != nil && l.log != nil {
		l.log.Debug("mqtt websocket client", "err", err)
	}
}

// wsConn carries MQTT bytes in binary WebSocket messages and remembers the
// TLS state of the HTTP request that opened it.
type wsConn struct {
	net.Conn
	c     *websocket.Conn
	r     io.Reader
	state tls.ConnectionState
	wmu   sync.Mutex
}

// ConnectionState is the TLS state, as *tls.Conn has it.
func (w *wsConn) ConnectionState() tls.ConnectionState { return w.state }

func (w *wsConn) Read(p []byte) (int, error) {
	for {
		if w.r == nil {
			op, r, err := w.c.NextReader()
			if err != nil {
				return 0, err
			}
			if op != websocket.BinaryMessage {
				return 0, errors.New("mqtt over websocket: text message")
			}
			w.r = r
		}
		n, err := w.r.Read(p)
		if errors.Is(err, io.EOF) {
			w.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (w *wsConn) Write(p []byte) (int, error) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if err := w.c.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// SetDeadline and SetWriteDeadline take the write lock: gorilla's write
// deadline is not safe against a concurrent write.
func (w *wsConn) SetDeadline(t time.Time) error {
	w.c.SetReadDeadline(t)
	return w.SetWriteDeadline(t)
}

func (w *wsConn) SetReadDeadline(t time.Time) error { return w.c.SetReadDeadline(t) }

func (w *wsConn) SetWriteDeadline(t time.Time) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.c.SetWriteDeadline(t)
}
func (w *wsConn) Close() error { return w.c.Close() }
