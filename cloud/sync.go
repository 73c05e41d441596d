package cloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"timeclock/clock"
	"timeclock/cloud/broker"
	"timeclock/cloud/bus"
	"timeclock/cloud/ingest"
	"timeclock/cloud/mosquitto"
	"timeclock/cloud/pki"
	"timeclock/cloud/registry"
	"timeclock/cloud/store"
	"timeclock/wire"
)

// mqttSide is the cloud's MQTT: the broker (embedded) or the client of an
// external one, the device registry and the punch ingest.
type mqttSide struct {
	reg       *registry.Registry
	embedded  *broker.Broker // nil with an external broker
	external  *bus.External  // nil with the embedded broker
	endpoints wire.Endpoints
	// tlsAddr and wsAddr are the embedded broker's bound addresses.
	tlsAddr, wsAddr string
	once            sync.Once
}

func (m *mqttSide) close() {
	m.once.Do(func() {
		if m.embedded != nil {
			m.embedded.Close()
		}
		if m.external != nil {
			m.external.Close()
		}
	})
}

type syncDeps struct {
	cfg        Config
	st         store.Store
	ca         *pki.CA
	serverCert tls.Certificate
	// tlsLn and wsLn are the embedded broker's listeners (nil with an
	// external broker).
	tlsLn, wsLn net.Listener
	clk         clock.Clock
	log         *slog.Logger
	out         io.Writer
}

// startMQTT starts the broker or the external client, the registry and the
// ingest; on failure it closes what it started.
func startMQTT(ctx context.Context, d syncDeps) (*mqttSide, error) {
	reg, err := registry.New(registry.DefaultConfig(), registry.Deps{Store: d.st, Clock: d.clk, Log: d.log})
	if err != nil {
		return nil, err
	}
	m := &mqttSide{reg: reg}
	var (
		b    bus.Bus
		gate registry.Gate
	)
	if d.cfg.MQTTBroker == "" {
		b, gate, err = m.startEmbedded(d)
	} else {
		b, gate, err = m.dialExternal(ctx, d)
	}
	if err != nil {
		m.close()
		return nil, err
	}
	if err := reg.Start(ctx, b, gate); err != nil {
		m.close()
		return nil, err
	}
	if err := startIngest(ctx, d, b); err != nil {
		m.close()
		return nil, err
	}
	m.endpoints = m.clockEndpoints(d.cfg)
	return m, nil
}

// startEmbedded starts the embedded broker on the listeners; it is both
// the bus and the gate.
func (m *mqttSide) startEmbedded(d syncDeps) (bus.Bus, registry.Gate, error) {
	var err error
	m.embedded, err = broker.Start(broker.Config{
		TLSListener: d.tlsLn, WSListener: d.wsLn,
		Certificate: d.serverCert, ClientCAs: d.ca.Pool(),
		Allowed: m.reg.Allowed, Logger: d.log,
	})
	if err != nil {
		return nil, nil, err
	}
	m.tlsAddr, m.wsAddr = m.embedded.TLSAddr(), m.embedded.WSAddr()
	return bus.Embedded{B: m.embedded}, m.embedded, nil
}

// dialExternal connects to the external broker, republishing the retained
// commands on every reconnect. With --mosquitto-dir the gate keeps
// Mosquitto's CRL and ACL in step; without it there is no gate.
func (m *mqttSide) dialExternal(ctx context.Context, d syncDeps) (bus.Bus, registry.Gate, error) {
	cfg := d.cfg
	tcfg, err := externalTLS(cfg)
	if err != nil {
		return nil, nil, err
	}
	m.external, err = bus.DialExternal(bus.ExternalConfig{URL: cfg.MQTTBroker, TLS: tcfg, Log: d.log,
		OnConnect: func(ctx context.Context) {
			if err := m.reg.Republish(ctx); err != nil && ctx.Err() == nil {
				d.log.Error("republish after reconnecting", "err", err)
			}
		}})
	if err != nil {
		return nil, nil, err
	}
	if cfg.MosquittoDir == "" {
		d.log.Warn("external broker without --mosquitto-dir: a disabled clock's punches are refused, but the broker still lets its certificate in")
		return m.external, nil, nil
	}
	g := &mosquitto.Gate{Dir: cfg.MosquittoDir, PIDFile: cfg.MosquittoPIDFile, CA: d.ca, Store: d.st, Clock: d.clk, Log: d.log}
	if err := g.Sync(ctx); err != nil {
		return nil, nil, err
	}
	return m.external, g, nil
}

// startIngest stores and acks the punches that come over b; in dev mode it
// also prints each batch for the person watching.
func startIngest(ctx context.Context, d syncDeps, b bus.Bus) error {
	var stored func(string, int, int)
	if d.cfg.Dev {
		stored = func(dev string, added, resent int) {
			fmt.Fprintf(d.out, "punches from %s: %d new, %d sent again\n", dev, added, resent)
		}
	}
	_, err := ingest.Start(ctx, b, ingest.Deps{Store: d.st, Clock: d.clk, Log: d.log, Stored: stored})
	return err
}

// clockEndpoints are the MQTT endpoints handed to clocks: the configured
// ones, or the public host with the bound (embedded) or configured ports.
func (m *mqttSide) clockEndpoints(cfg Config) wire.Endpoints {
	ep := wire.Endpoints{TLS: cfg.DeviceMQTT, WebSocket: cfg.DeviceMQTTWS}
	tlsPort, wsPort := port(cfg.MQTTAddr), port(cfg.MQTTWSAddr)
	if m.embedded != nil {
		tlsPort, wsPort = port(m.tlsAddr), port(m.wsAddr)
	}
	if ep.TLS == "" {
		ep.TLS = net.JoinHostPort(cfg.PublicHost, tlsPort)
	}
	if ep.WebSocket == "" {
		ep.WebSocket = "wss://" + net.JoinHostPort(cfg.PublicHost, wsPort) + "/mqtt"
	}
	return ep
}

// externalTLS is the cloud's client certificate and the broker's CA.
func externalTLS(cfg Config) (*tls.Config, error) {
	certFile, keyFile := cfg.MQTTClientCert, cfg.MQTTClientKey
	if certFile == "" {
		certFile = filepath.Join(cfg.DataDir, mosquitto.ClientFile)
	}
	if keyFile == "" {
		keyFile = filepath.Join(cfg.DataDir, mosquitto.ClientKeyFile)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("mqtt-client-cert: %w (timeclock-cloud mosquitto-config writes it)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("mqtt-client-cert: %w", err)
	}
	caFile := cfg.MQTTBrokerCA
	if caFile == "" {
		caFile = filepath.Join(cfg.DataDir, pki.CAFile)
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("mqtt-broker-ca: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("mqtt-broker-ca: %s holds no PEM certificate", caFile)
	}
	u, _ := url.Parse(cfg.MQTTBroker)
	return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}, nil
}
