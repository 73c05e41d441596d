package bus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// ExternalConfig says how the cloud reaches an external broker.
type ExternalConfig struct {
	// URL is the broker: mqtts://host:port (also tls:// or ssl://), or
	// wss://host:port/path.
	URL string
	// ClientID is the cloud's MQTT client ID; with Mosquitto's
	// use_username_as_clientid it is replaced by the certificate's CN.
	ClientID string
	// TLS carries the cloud's client certificate and the CA for the broker.
	TLS *tls.Config
	// OnConnect runs after every connection, once the subscriptions are
	// made again (in its own goroutine; the bus waits for it on Close).
	OnConnect func(ctx context.Context)
	Log       *slog.Logger
}

// External is a persistent-session MQTT client of an external broker. It
// reconnects by itself and subscribes again on every connection, since a
// broker may have lost the session (a restart without persistence).
type External struct {
	cfg    ExternalConfig
	client paho.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	subs map[string]Handler // guarded by mu; made again on every connect
	live bool               // guarded by mu; a connection is up: subscribe at once
	up   bool               // guarded by mu; connected and subscribed
}

var _ Bus = (*External)(nil)

// ParseBrokerURL checks a broker URL and returns it as paho takes it.
func ParseBrokerURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Port() == "" {
		return "", fmt.Errorf("mqtt broker %q: want mqtts://host:port or wss://host:port/path", s)
	}
	switch u.Scheme {
	case "mqtts", "tls", "ssl":
		return "tls://" + u.Host, nil
	case "wss":
		return s, nil
	}
	return "", fmt.Errorf("mqtt broker %q: scheme %q: want mqtts or wss (the broker takes TLS client certificates)", s, u.Scheme)
}

// DialExternal starts the client; it connects in the background (and
// keeps trying), so the cloud starts while the broker is still down.
func DialExternal(cfg ExternalConfig) (*External, error) {
	broker, err := ParseBrokerURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.TLS == nil || len(cfg.TLS.Certificates) == 0 {
		return nil, errors.New("mqtt broker: the cloud's client certificate is missing")
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "timeclock-cloud"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	e := &External{cfg: cfg, subs: map[string]Handler{}}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	o := paho.NewClientOptions().AddBroker(broker).SetClientID(cfg.ClientID).
		SetTLSConfig(cfg.TLS).
		SetCleanSession(false).SetResumeSubs(false).SetStore(NoStore{}).
		SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(10 * time.Second).
		SetKeepAlive(30 * time.Second).SetPingTimeout(10 * time.Second).
		SetConnectTimeout(10 * time.Second).SetWriteTimeout(10 * time.Second).
		// Each message is handled in its own goroutine and acknowledged to
		// the broker when its handler returns (stored, then PUBACK).
		SetOrderMatters(false).
		SetOnConnectHandler(e.onConnect).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			e.mu.Lock()
			e.live = false
			e.mu.Unlock()
			e.setUp(false, err.Error())
		})
	e.client = paho.NewClient(o)
	e.client.Connect() // with ConnectRetry the token completes once connected
	return e, nil
}

func (e *External) setUp(up bool, reason string) {
	e.mu.Lock()
	was := e.up
	e.up = up
	e.mu.Unlock()
	if was != up {
		from, to := "disconnected", "connected"
		if !up {
			from, to = to, from
		}
		e.cfg.Log.Info(fmt.Sprintf("mqtt broker %s -> %s (%s)", from, to, reason), "broker", e.cfg.URL)
	}
}

// Connected reports whether the client is connected now.
func (e *External) Connected() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.up
}

func (e *External) onConnect(c paho.Client) {
	e.mu.Lock()
	e.live = true // from here on Subscribe subscribes itself
	subs := make(map[string]Handler, len(e.subs))
	for f, h := range e.subs {
		subs[f] = h
	}
	e.mu.Unlock()
	for f, h := range subs {
		if err := e.subscribe(f, h); err != nil {
			e.cfg.Log.Error("mqtt broker: subscribe again", "filter", f, "err", err)
		}
	}
	e.setUp(true, "session ready")
	if e.cfg.OnConnect != nil {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.cfg.OnConnect(e.ctx)
		}()
	}
}

// Publish sends a QoS 1 message and waits for the broker's PUBACK (or ctx).
func (e *External) Publish(ctx context.Context, topic string, payload []byte, retain bool) error {
	tok := e.client.Publish(topic, 1, retain, payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("mqtt publish %s: %w", topic, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("mqtt publish %s: %w", topic, ctx.Err())
	}
}

// Subscribe adds a QoS 1 subscription, kept across reconnects. While
// disconnected it is made on the next connection.
func (e *External) Subscribe(filter string, h Handler) error {
	e.mu.Lock()
	e.subs[filter] = h
	live := e.live
	e.mu.Unlock()
	if !live {
		return nil
	}
	return e.subscribe(filter, h)
}

func (e *External) subscribe(filter string, h Handler) error {
	tok := e.client.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { h(m.Topic(), m.Payload()) })
	if !tok.WaitTimeout(30 * time.Second) {
		return fmt.Errorf("mqtt subscribe %s: no answer in 30 s", filter)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("mqtt subscribe %s: %w", filter, err)
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		if code := st.Result()[filter]; code == 0x80 {
			return fmt.Errorf("mqtt subscribe %s: refused by the broker (check its ACL for %s)", filter, e.cfg.ClientID)
		}
	}
	return nil
}

// Close disconnects and waits for OnConnect runs to end.
func (e *External) Close() error {
	e.cancel()
	e.client.Disconnect(250)
	e.wg.Wait()
	e.setUp(false, "closed")
	return nil
}
