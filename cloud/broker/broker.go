// Package broker is the cloud's embedded MQTT broker (mochi-mqtt): MQTT over
// TLS with a client certificate (59777) and over secure WebSocket (59778).
// A device's identity is its certificate's CN; it may only use its own
// topics, and only in the direction the protocol gives them.
package broker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"timeclock/wire"
)

// Config says where the broker listens and whom it lets in.
type Config struct {
	// TLSAddr and WSAddr are listen addresses ("" disables one).
	TLSAddr, WSAddr string
	// TLSListener and WSListener, when set, are used instead of listening
	// on the addresses (the caller listened first to name a busy port).
	TLSListener, WSListener net.Listener
	// Certificate is the broker's server certificate.
	Certificate tls.Certificate
	// ClientCAs verifies device certificates.
	ClientCAs *x509.CertPool
	// Allowed reports whether a device may connect now with the certificate
	// of this serial (lower-case hex): approved, or disabled with its one
	// last transmission still to come, and the certificate its newest.
	Allowed func(deviceID, certSerial string) bool
	Logger  *slog.Logger
}

// Broker is a running embedded broker.
type Broker struct {
	srv     *mqtt.Server
	log     *slog.Logger
	tlsAddr string
	wsAddr  string

	mu     sync.Mutex
	nextID int // guarded by mu; inline subscription IDs
}

// Start listens on the configured addresses and serves until Close.
func Start(cfg Config) (*Broker, error) {
	if cfg.Allowed == nil {
		return nil, errors.New("broker: no Allowed function")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// Everything the broker side logs (mochi, its listeners, the ACL) goes
	// through the filter: no payload, capped strings, rate-limited.
	cfg.Logger = slog.New(newLogFilter(cfg.Logger.Handler()))
	tcfg := &tls.Config{
		Certificates: []tls.Certificate{cfg.Certificate},
		ClientCAs:    cfg.ClientCAs,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = wire.MaxPayload + 4096
	caps.MaximumClientWritesPending = 8192
	srv := mqtt.New(&mqtt.Options{
		InlineClient: true,
		Capabilities: caps,
		Logger:       cfg.Logger.With("component", "broker"),
	})
	b := &Broker{srv: srv, log: cfg.Logger}
	if err := srv.AddHook(&aclHook{allowed: cfg.Allowed, log: cfg.Logger}, nil); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	tln, wln := cfg.TLSListener, cfg.WSListener
	for _, l := range []struct {
		ln   *net.Listener
		addr string
	}{{&tln, cfg.TLSAddr}, {&wln, cfg.WSAddr}} {
		if *l.ln != nil || l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			if tln != nil && tln != cfg.TLSListener {
				tln.Close()
			}
			return nil, fmt.Errorf("broker: listen %s: %w", l.addr, err)
		}
		*l.ln = ln
	}
	if tln != nil {
		l := newTLSListener("mqtts", tln, tcfg)
		if err := srv.AddListener(l); err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
		b.tlsAddr = l.Address()
	}
	if wln != nil {
		l := newWSListener("wss", wln, tcfg)
		if err := srv.AddListener(l); err != nil {
			wln.Close()
			srv.Close()
			return nil, fmt.Errorf("broker: %w", err)
		}
		b.wsAddr = l.Address()
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("broker: %w", err)
	}
	return b, nil
}

// TLSAddr and WSAddr are the bound addresses ("" when disabled).
func (b *Broker) TLSAddr() string { return b.tlsAddr }

// WSAddr is the bound secure-WebSocket address.
func (b *Broker) WSAddr() string { return b.wsAddr }

// Close stops the listeners and disconnects every client.
func (b *Broker) Close() error { return b.srv.Close() }

// Publish sends a QoS 1 message from the cloud.
func (b *Broker) Publish(topic string, payload []byte, retain bool) error {
	return b.srv.Publish(topic, payload, retain, 1)
}

// Subscribe delivers messages matching filter to fn, in the publishing
// client's goroutine: fn's time is the device's backpressure.
func (b *Broker) Subscribe(filter string, fn func(topic string, payload []byte)) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	b.mu.Unlock()
	return b.srv.Subscribe(filter, id, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		fn(pk.TopicName, pk.Payload)
	})
}

// Kick disconnects a device's live session (after its certificate was refused).
func (b *Broker) Kick(deviceID string) {
	if cl, ok := b.srv.Clients.Get(deviceID); ok && !cl.Net.Inline {
		b.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
	}
}

// Refuse disconnects a disabled device's session; its certificate is
// refused from now on by the Allowed function (the registry).
func (b *Broker) Refuse(_ context.Context, deviceID string) error {
	b.Kick(deviceID)
	b.log.Info("broker: device refused and its session closed", "device", deviceID)
	return nil
}

// Changed needs nothing here: Allowed reads the registry at every CONNECT.
func (b *Broker) Changed(context.Context) error { return nil }

// Connected reports whether a device has a live session.
func (b *Broker) Connected(deviceID string) bool {
	cl, ok := b.srv.Clients.Get(deviceID)
	return ok && !cl.Closed()
}

// certIdentity is the verified client certificate's CN and serial (hex,
// as pki writes it), or "".
func certIdentity(c net.Conn) (cn, serial string) {
	s, ok := c.(interface{ ConnectionState() tls.ConnectionState })
	if !ok {
		return "", ""
	}
	st := s.ConnectionState()
	if len(st.VerifiedChains) == 0 || len(st.PeerCertificates) == 0 {
		return "", ""
	}
	leaf := st.PeerCertificates[0]
	return leaf.Subject.CommonName, fmt.Sprintf("%x", leaf.SerialNumber)
}

// aclHook authenticates devices by certificate and keeps each to its topics.
type aclHook struct {
	mqtt.HookBase
	allowed func(deviceID, serial string) bool
	log     *slog.Logger
}

func (h *aclHook) ID() string { return "timeclock-acl" }

func (h *aclHook) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

// OnConnectAuthenticate admits a client whose verified certificate CN is its
// client ID, and whose device is allowed now.
func (h *aclHook) OnConnectAuthenticate(cl *mqtt.Client, _ packets.Packet) bool {
	if cl.Net.Inline {
		return true
	}
	cn, serial := certIdentity(cl.Net.Conn)
	switch {
	case cn == "":
		h.log.Warn("mqtt refused: no verified client certificate", "remote", cl.Net.Remote)
		return false
	case cn != cl.ID:
		h.log.Warn("mqtt refused: client ID is not the certificate's device", "cn", cn, "client_id", cl.ID)
		return false
	case !h.allowed(cn, serial):
		h.log.Warn("mqtt refused: device not allowed (unknown, disabled, or an old certificate)", "device", cn, "cert_serial", serial)
		return false
	}
	return true
}

// device-side directions: what a device may publish and subscribe to.
var (
	devicePublish   = []string{wire.TopicPunches, wire.TopicStatus, wire.TopicCmdResult}
	deviceSubscribe = []string{wire.TopicAck, wire.TopicCmd}
)

// OnACLCheck lets a device publish only its own up-topics and subscribe only
// to its own down-topics (a filter with wildcards must stay inside them).
func (h *aclHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if cl.Net.Inline {
		return true
	}
	ok := allowedTopic(cl.ID, topic, write)
	if !ok {
		h.log.Warn("mqtt acl refused", "device", cl.ID, "topic", topic, "publish", write)
	}
	return ok
}

func allowedTopic(deviceID, topic string, write bool) bool {
	rest, ok := strings.CutPrefix(topic, wire.TopicPrefix+deviceID+"/")
	if !ok {
		return false
	}
	list := deviceSubscribe
	if write {
		list = devicePublish
	}
	for _, s := range list {
		if rest == s {
			return true
		}
	}
	return false
}
