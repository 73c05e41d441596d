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
	// overTLS is MQTT over TLS with the client certificate (port 59777).
	overTLS transport = iota
	// overWSS is MQTT over secure WebSocket (port 59778): the fallback
	// for networks that filter 59777.
	overWSS
)

func (t transport) String() string {
	if t == overWSS {
		return "wss"
	}
	return "tls"
}

func (t transport) other() transport { return 1 - t }

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

// inbound is a message from the broker.
type inbound struct {
	topic   string
	payload []byte
}

// conn is one MQTT session with the broker: a paho client made for this
// connection alone, with an empty memory store (the journal, not paho,
// keeps what must not be lost). Messages are queued without blocking paho's
// router, and read by the sync's goroutine.
type conn struct {
	client mqtt.Client
	via    transport
	addr   string

	mu    sync.Mutex
	queue []inbound // guarded by mu
	ready chan struct{}

	lostOnce sync.Once
	lost     chan struct{}
	lostErr  error // set before lost is closed
}

// dialer opens the network connection under a paho client.
type dialer struct {
	tls     *tls.Config
	timeout time.Duration
	// dial is the TCP dial (nil: net.Dialer); tests and the sim inject it.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// brokerURL is the paho broker URL of a transport from the identity's
// endpoints.
func brokerURL(ep wire.Endpoints, t transport) (string, error) {
	if t == overTLS {
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
// port costs the connect timeout, not the system's minutes), or paho's
// WebSocket with the same TLS config.
func (d dialer) open(uri *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
	tc := d.tls.Clone()
	tc.ServerName = uri.Hostname()
	if uri.Scheme == "wss" {
		return mqtt.NewWebsocket(uri.String(), tc, d.timeout, nil, nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	dial := d.dial
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

// sessionOpts are what a connection is made with.
type sessionOpts struct {
	clientID  string
	url       string
	via       transport
	dialer    dialer
	keepAlive time.Duration
	will      []byte // retained on the status topic if the clock vanishes
}

// connect makes a paho client and connects it once (no retries, no
// auto-reconnect: the sync's backoff decides when to try again).
func connect(ctx context.Context, o sessionOpts) (*conn, error) {
	c := &conn{via: o.via, ready: make(chan struct{}, 1), lost: make(chan struct{})}
	u, _ := url.Parse(o.url)
	c.addr = u.Host
	opts := mqtt.NewClientOptions().
		AddBroker(o.url).
		SetClientID(o.clientID).
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
		SetKeepAlive(o.keepAlive).
		SetPingTimeout(min(o.keepAlive, 10*time.Second)).
		SetConnectTimeout(o.dialer.timeout).
		SetWriteTimeout(2*o.dialer.timeout).
		SetTLSConfig(o.dialer.tls).
		SetCustomOpenConnectionFn(o.dialer.open).
		SetBinaryWill(willTopic(o.clientID), o.will, 1, true).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) {
			c.push(inbound{topic: m.Topic(), payload: m.Payload()})
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

func willTopic(deviceID string) string { return wire.Topic(deviceID, wire.TopicStatus) }

func (c *conn) push(m inbound) {
	c.mu.Lock()
	c.queue = append(c.queue, m)
	c.mu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// take returns the queued messages, oldest first.
func (c *conn) take() []inbound {
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

// subscribe subscribes to the clock's down topics at QoS 1 and waits for
// the broker's answer. Messages go to the default handler.
func (c *conn) subscribe(ctx context.Context, topics ...string) error {
	filters := map[string]byte{}
	for _, t := range topics {
		filters[t] = 1
	}
	tok := c.client.SubscribeMultiple(filters, nil)
	if err := c.wait(ctx, tok); err != nil {
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

// publish sends at QoS 1 and returns paho's token without waiting.
func (c *conn) publish(topic string, payload []byte, retain bool) mqtt.Token {
	return c.client.Publish(topic, 1, retain, payload)
}

// wait waits for a token, the connection's loss or ctx.
func (c *conn) wait(ctx context.Context, tok mqtt.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-c.lost:
		return errLost
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close ends the session cleanly (a DISCONNECT, so no will is sent), or
// tidies up after a lost one.
func (c *conn) close() {
	c.client.Disconnect(250)
}

// probe checks that a transport's port answers: TCP and the TLS handshake
// with the client certificate, no MQTT session (that would end the one the
// clock has).
func (d dialer) probe(ctx context.Context, ep wire.Endpoints, t transport) error {
	u, err := brokerURL(ep, t)
	if err != nil {
		return err
	}
	pu, err := url.Parse(u)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	dial := d.dial
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
	tc := d.tls.Clone()
	tc.ServerName = pu.Hostname()
	return tls.Client(raw, tc).HandshakeContext(ctx)
}
