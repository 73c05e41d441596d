// Package mosquitto runs the cloud's MQTT on an external Mosquitto 2.0
// broker instead of the embedded one: it writes the broker's configuration
// (two TLS listeners that take the clock's certificate CN as its user name,
// the broker's certificate, an ACL mirroring cloud/broker's rules) and the
// cloud's own client certificate, and later keeps the CRL and the ACL in
// step with disabled clocks (Gate).
//
// How a disabled clock is refused (Mosquitto 2.0.11 as in Debian 12, tested
// in gate_test.go): its certificate's serial goes into crl.pem and its
// device ID gets a "deny everything" ACL entry; SIGHUP makes Mosquitto
// reload both. From then on a TLS connection (59777) with that certificate
// fails its handshake. Mosquitto does not apply crlfile to its WebSocket
// listener (59778), so there the connection is accepted, but the ACL lets
// it neither publish nor receive anything. A session already connected at
// the reload is not disconnected; it is cut off by the ACL the same way.
package mosquitto

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"text/template"
	"time"

	"timeclock/cloud/pki"
	"timeclock/internal/atomicfile"
	"timeclock/wire"
)

// The files Generate writes into the broker's directory.
const (
	ConfFile      = "mosquitto.conf"
	ACLFile       = "acl"
	CRLFile       = "crl.pem"
	CAFile        = "ca.pem"
	ServerFile    = pki.ServerFile
	ServerKeyFile = pki.ServerKeyFile
	PIDFile       = "mosquitto.pid"
	PersistDir    = "data"
)

// The cloud's own client certificate, written into the cloud's data
// directory.
const (
	ClientFile    = "mqtt-client.pem"
	ClientKeyFile = "mqtt-client-key.pem"
)

// CloudIdentity is the CN of the cloud's client certificate: the one user
// with access to every clock's topics. Device IDs are hex, so it cannot be
// one.
const CloudIdentity = "timeclock-cloud"

// Config says what to generate.
type Config struct {
	// Dir receives the configuration, certificates, ACL and CRL.
	Dir string
	// TLSAddr and WSAddr are the listeners, host:port ("" host: every
	// address). Production: :59777 and :59778.
	TLSAddr, WSAddr string
	// Hosts are the names and addresses clocks use for the broker: in its
	// server certificate.
	Hosts []string
	// User is Mosquitto's "user" option: whom it runs as after starting as
	// root. Empty leaves Mosquitto's default ("mosquitto").
	User string
}

// Validate checks the config.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("mosquitto: dir missing"))
	}
	for name, a := range map[string]string{"tls": c.TLSAddr, "websocket": c.WSAddr} {
		if _, p, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("mosquitto: %s listener %q: want host:port", name, a))
		} else if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("mosquitto: %s listener %q: want a port 1-65535", name, a))
		}
	}
	if len(c.Hosts) == 0 {
		errs = append(errs, errors.New("mosquitto: no host names for the server certificate"))
	}
	return errors.Join(errs...)
}

var confTmpl = template.Must(template.New("conf").Parse(`# Mosquitto 2.0 configuration for the timeclock cloud.
# Written by "timeclock-cloud mosquitto-config"; run: mosquitto -c {{.Dir}}/mosquitto.conf
#
# Clocks connect with their client certificate on both listeners; the
# certificate's CN (the device ID) is their user name and client ID. The cloud
# connects as "{{.Cloud}}". The cloud rewrites acl and crl.pem when a clock is
# disabled or onboarded again and sends this broker SIGHUP (pid_file) to
# reload them.
per_listener_settings false
allow_anonymous false
acl_file {{.Dir}}/acl
pid_file {{.Dir}}/mosquitto.pid
{{- if .User}}
user {{.User}}
{{- end}}
persistence true
persistence_location {{.Dir}}/data/
autosave_interval 60
# Punches wait for the cloud while it is away; clocks resend what is not
# acknowledged, so an overflow loses nothing, but it costs a resend.
max_queued_messages 10000
max_inflight_messages 100
max_packet_size {{.MaxPacket}}
set_tcp_nodelay true
log_dest stderr

# MQTT over TLS (59777).
listener {{.TLSPort}}{{if .TLSHost}} {{.TLSHost}}{{end}}
protocol mqtt
cafile {{.Dir}}/ca.pem
certfile {{.Dir}}/server.pem
keyfile {{.Dir}}/server-key.pem
crlfile {{.Dir}}/crl.pem
tls_version tlsv1.2
require_certificate true
use_identity_as_username true
use_username_as_clientid true

# MQTT over secure WebSocket (59778), the fallback when 59777 is filtered.
# Mosquitto does not check crlfile here: a disabled clock's connection is
# accepted but the ACL refuses all it does.
listener {{.WSPort}}{{if .WSHost}} {{.WSHost}}{{end}}
protocol websockets
cafile {{.Dir}}/ca.pem
certfile {{.Dir}}/server.pem
keyfile {{.Dir}}/server-key.pem
crlfile {{.Dir}}/crl.pem
require_certificate true
use_identity_as_username true
use_username_as_clientid true
`))

// Generate writes the broker's directory: mosquitto.conf, the CA, a server
// certificate for cfg.Hosts, an empty CRL and the ACL. The cloud rewrites
// the CRL and the ACL from its store when it starts with --mosquitto-dir.
func Generate(ca *pki.CA, cfg Config, now time.Time) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return fmt.Errorf("mosquitto: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, PersistDir), 0o750); err != nil {
		return fmt.Errorf("mosquitto: %w", err)
	}
	tlsHost, tlsPort, _ := net.SplitHostPort(cfg.TLSAddr)
	wsHost, wsPort, _ := net.SplitHostPort(cfg.WSAddr)
	var conf bytes.Buffer
	err = confTmpl.Execute(&conf, map[string]any{
		"Dir": dir, "Cloud": CloudIdentity, "User": cfg.User, "MaxPacket": wire.MaxPayload + 4096,
		"TLSHost": tlsHost, "TLSPort": tlsPort, "WSHost": wsHost, "WSPort": wsPort,
	})
	if err != nil {
		return fmt.Errorf("mosquitto: %w", err)
	}
	if _, err := ca.ServerCert(dir, cfg.Hosts, now); err != nil {
		return fmt.Errorf("mosquitto: %w", err)
	}
	crl, err := ca.CRL(nil, now)
	if err != nil {
		return fmt.Errorf("mosquitto: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{CAFile, ca.PEM}, {CRLFile, crl}, {ACLFile, ACL(nil)}, {ConfFile, conf.Bytes()},
	} {
		if err := atomicfile.Write(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("mosquitto: %w", err)
		}
	}
	return nil
}

// WriteClientCert issues the cloud's client certificate (CN CloudIdentity)
// into dataDir, the key with mode 0600.
func WriteClientCert(ca *pki.CA, dataDir string, now time.Time) error {
	certPEM, keyPEM, err := ca.IssueClient(CloudIdentity, now)
	if err != nil {
		return fmt.Errorf("mosquitto: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dataDir, ClientKeyFile), keyPEM, 0o600); err != nil {
		return fmt.Errorf("mosquitto: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dataDir, ClientFile), certPEM, 0o644); err != nil {
		return fmt.Errorf("mosquitto: %w", err)
	}
	return nil
}
