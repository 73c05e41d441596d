package cloudsync

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"timeclock/wire"
)

// transport is how the clock reaches the broker.
type transport uint8

const (
	// viaTLS is MQTT over TLS with the client certificate (port 59777).
	viaTLS transport = iota
	// viaWSS is MQTT over secure WebSocket (port 59778): the fallback
	// for networks that filter 59777.
	viaWSS
)

func (t transport) String() string {
	if t == viaWSS {
		return "wss"
	}
	return "tls"
}

// Other is the other transport.
func (t transport) Other() transport { return 1 - t }

// Errors deciding what a failed connection attempt means.
var (
	// errRefused: the broker was reached and refused this clock (not
	// authorised, or its certificate refused in the TLS handshake).
	// Trying the other port would only be refused again.
	errRefused = errors.New("refused by the cloud")
	// errLost: a live connection went down.
	errLost = errors.New("connection lost")
)

// refusal reports whether a connect error is the cloud refusing the clock
// rather than the network failing.
func refusal(err error) bool {
	if errors.Is(err, packets.ErrorRefusedNotAuthorised) || errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) ||
		errors.Is(err, packets.ErrorRefusedIDRejected) {
		return true
	}
	// A certificate the server refuses (revoked, unknown) comes back as a
	// TLS alert on the first read after the handshake.
	s := err.Error()
	return strings.Contains(s, "remote error: tls:") && strings.Contains(s, "certificate")
}

// message is a message from the broker.
type message struct {
	Topic   string
	Payload []byte
}

// conn is one MQTT session of the clock with the cloud's broker: MQTT
// 3.1.1 over TLS with the clock's client certificate, or over secure
// WebSocket; a persistent session; a paho client made for this connection
// alone, with a memory store (the journal, not paho, keeps what must not be
// lost). Inbound messages are queued without ever blocking paho, for Run's
// goroutine to take.
type conn struct {
	client mqtt.Client
	via    transport
	addr   string

	mu    sync.Mutex
	queue []message // guarded by mu
	ready chan struct{}

	lostOnce sync.Once
	lost     chan struct{}
	lostErr  error // set before lost is closed
}

// dialer opens the network connection under a paho client.
type dialer struct {
	TLS     *tls.Config
	Timeout time.Duration // bounds a whole connection attempt
	// Dial is the TCP dial (nil: net.Dialer); tests and the sim inject it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// brokerURL is the paho broker URL of a transport from the identity's
// endpoints.
func brokerURL(ep wire.Endpoints, t transport) (string, error) {
	if t == viaTLS {
		if ep.TLS == "" {
			return "", errors.New("no MQTT TLS endpoint")
		}
		return "mqtts://" + ep.TLS, nil
	}
	if ep.WebSocket == "" {
		return "", errors.New("no MQTT WebSocket endpoint")
	}
	u, err := url.Parse(ep.WebSocket)
	if err != nil || u.Scheme != "wss" || u.Host == "" {
		return "", fmt.Errorf("MQTT WebSocket endpoint %q: want wss://host:port/path", ep.WebSocket)
	}
	return u.String(), nil
}

// open is paho's connection opener: TLS on our own dial (so a filtered
// port costs the connect timeout, not the system's minutes, and a stop
// cuts it short), or paho's WebSocket with the same TLS config.
func (d dialer) open(ctx context.Context, uri *url.URL) (net.Conn, error) {
	tc := d.TLS.Clone()
	tc.ServerName = uri.Hostname()
	if uri.Scheme == "wss" {
		return mqtt.NewWebsocket(uri.String(), tc, d.Timeout, nil, nil)
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	dial := d.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	raw, err := dial(ctx, "tcp", uri.Host)
	if err != nil {
		return nil, err
	}
	c := tls.Client(raw, tc)
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

// connOptions are what a connection is made with.
type connOptions struct {
	ClientID  string
	URL       string
	Via       transport
	Dialer    dialer
	KeepAlive time.Duration
	// WillTopic and Will are the retained last will (the clock's offline
	// status).
	WillTopic string
	Will      []byte
}

// connectOnce makes a paho client and connects it once (no retries, no
// auto-reconnect: the caller's backoff decides when to try again). A
// refusal by the broker is errRefused.
func connectOnce(ctx context.Context, o connOptions) (*conn, error) {
	c := &conn{via: o.Via, ready: make(chan struct{}, 1), lost: make(chan struct{})}
	u, _ := url.Parse(o.URL)
	c.addr = u.Host
	opts := mqtt.NewClientOptions().
		AddBroker(o.URL).
		SetClientID(o.ClientID).
		// MQTT 3.1.1 only: no second attempt as 3.1 after a refusal.
		SetProtocolVersion(4).
		// A persistent session: the broker keeps acks and commands while
		// the clock is away.
		SetCleanSession(false).
		SetStore(mqtt.NewMemoryStore()).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetResumeSubs(false).
		SetOrderMatters(true). // handlers only queue: they never block paho
		SetKeepAlive(o.KeepAlive).
		SetPingTimeout(min(o.KeepAlive, 10*time.Second)).
		SetConnectTimeout(o.Dialer.Timeout).
		SetWriteTimeout(2*o.Dialer.Timeout).
		SetTLSConfig(o.Dialer.TLS).
		SetCustomOpenConnectionFn(func(u *url.URL, _ mqtt.ClientOptions) (net.Conn, error) { return o.Dialer.open(ctx, u) }).
		SetBinaryWill(o.WillTopic, o.Will, 1, true).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) {
			c.push(message{Topic: m.Topic(), Payload: m.Payload()})
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { c.markLost(err) })
	c.client = mqtt.NewClient(opts)
	tok := c.client.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		// paho bounds the attempt by the connect timeout; wait it out so
		// its goroutines are gone when we return.
		<-tok.Done()
		c.client.Disconnect(0)
		return nil, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		if refusal(err) {
			return nil, fmt.Errorf("%w: %w", errRefused, err)
		}
		return nil, err
	}
	return c, nil
}

func (c *conn) push(m message) {
	c.mu.Lock()
	c.queue = append(c.queue, m)
	c.mu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// Take returns the queued messages, oldest first.
func (c *conn) Take() []message {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	return q
}

func (c *conn) markLost(err error) {
	c.lostOnce.Do(func() {
		c.lostErr = err
		close(c.lost)
	})
}

// Subscribe subscribes at QoS 1 and waits for the broker's answer.
// Messages come through Ready and Take.
func (c *conn) Subscribe(ctx context.Context, topics ...string) error {
	filters := map[string]byte{}
	for _, t := range topics {
		filters[t] = 1
	}
	tok := c.client.SubscribeMultiple(filters, nil)
	if err := c.Wait(ctx, tok); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		for t, code := range st.Result() {
			if code >= 0x80 {
				return fmt.Errorf("subscribe %s: refused by the broker", t)
			}
		}
	}
	return nil
}

// Publish sends at QoS 1 and returns paho's token without waiting.
func (c *conn) Publish(topic string, payload []byte, retain bool) mqtt.Token {
	return c.client.Publish(topic, 1, retain, payload)
}

// Wait waits for a token, the connection's loss or ctx.
func (c *conn) Wait(ctx context.Context, tok mqtt.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-c.lost:
		return errLost
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close ends the session cleanly (a DISCONNECT, so no will is sent), or
// tidies up after a lost one.
func (c *conn) Close() {
	c.client.Disconnect(250)
}

// Probe checks that a transport's port answers: TCP and the TLS handshake
// with the client certificate, no MQTT session (that would end the one the
// clock has).
func (d dialer) Probe(ctx context.Context, ep wire.Endpoints, t transport) error {
	u, err := brokerURL(ep, t)
	if err != nil {
		return err
	}
	pu, err := url.Parse(u)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	dial := d.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	host := pu.Host
	if pu.Port() == "" {
		host = net.JoinHostPort(pu.Hostname(), "443")
	}
	raw, err := dial(ctx, "tcp", host)
	if err != nil {
		return err
	}
	defer raw.Close()
	tc := d.TLS.Clone()
	tc.ServerName = pu.Hostname()
	return tls.Client(raw, tc).HandshakeContext(ctx)
}

// Ready signals that messages are queued (Take them).
func (c *conn) Ready() <-chan struct{} { return c.ready }

// Lost is closed when the connection went down; LostErr says why.
func (c *conn) Lost() <-chan struct{} { return c.lost }

// LostErr is why the connection went down (after Lost is closed).
func (c *conn) LostErr() error { return c.lostErr }

// Via is the transport of the session.
func (c *conn) Via() transport { return c.via }

// Addr is the broker's host:port.
func (c *conn) Addr() string { return c.addr }
