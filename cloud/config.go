// Package cloud assembles the reference cloud: the store, the CA, the
// mailer, the MQTT side (broker or external client, registry, ingest), the
// onboarding service, the admin side and the HTTP(S) servers, run together
// until the context ends. Run reads as its start-up steps (run.go);
// cmd/timeclock-cloud is its thin main.
package cloud

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"

	"timeclock/cloud/bus"
	"timeclock/cloud/notify"
	"timeclock/cloud/store"
	"timeclock/wire"
)

// The production listen addresses: the seed's four ports.
const (
	HTTPAddr   = ":80"
	HTTPSAddr  = ":443"
	MQTTAddr   = ":59777"
	MQTTWSAddr = ":59778"
)

// The --dev listen addresses: high ports, loopback only.
const (
	DevHTTPAddr   = "127.0.0.1:18080"
	DevHTTPSAddr  = "127.0.0.1:18443"
	DevMQTTAddr   = "127.0.0.1:19777"
	DevMQTTWSAddr = "127.0.0.1:19778"
)

// Config is everything the cloud is told at start.
type Config struct {
	// Dev makes a dev CA on first start, seeds a demo company, mails into
	// DataDir/outbox (and the output) and lets the admin API move the clock.
	Dev bool
	// DataDir holds the store, the CA, the server certificate and, in dev
	// mode, the outbox and dev.json.
	DataDir string
	// Listen addresses (host:port; port 0 picks a free one).
	HTTPAddr, HTTPSAddr, MQTTAddr, MQTTWSAddr string
	// PublicHost is the name clocks use for this cloud: it is in the server
	// certificate and in the MQTT endpoints handed out at activation.
	PublicHost string
	// CreateCA makes a CA in DataDir when there is none (implied by Dev).
	CreateCA bool
	// ReleaseKeys are the release public keys (base64) an uploaded update
	// artifact must be signed with; Dev adds the development key.
	ReleaseKeys []string
	// SMTP is the mail server; an empty Host means none (dev mode only).
	SMTP notify.SMTPConfig
	// SMTPCAFile is a PEM file of CAs to trust for the SMTP server, added to
	// the system roots' place; empty uses the system roots.
	SMTPCAFile string
	// SMTPCAPEM are PEM CAs for the SMTP server from the stored settings
	// ("timeclock-cloud mail set"); SMTPCAFile wins.
	SMTPCAPEM []byte
	// MailFrom is the From of every mail.
	MailFrom string
	// DemoCompanyID is the demo company's ID on a first dev start; empty
	// picks a random one.
	DemoCompanyID string
	// SMS is the HTTP SMS provider that texts the company setup code; an
	// empty URL means none (dev mode still writes DataDir/sms-outbox).
	SMS notify.SMSConfig

	// MQTTBroker is an external broker (mqtts://host:port or
	// wss://host:port/path) the cloud connects to as a client; empty runs
	// the embedded broker on MQTTAddr and MQTTWSAddr.
	MQTTBroker string
	// MQTTClientCert and MQTTClientKey are the cloud's client certificate
	// at the external broker; empty: DATA/mqtt-client.pem and
	// DATA/mqtt-client-key.pem (timeclock-cloud mosquitto-config writes them).
	MQTTClientCert, MQTTClientKey string
	// MQTTBrokerCA is a PEM file of CAs for the external broker's server
	// certificate; empty: the cloud's own CA (mosquitto-config signs the
	// broker's certificate with it).
	MQTTBrokerCA string
	// MosquittoDir is the external Mosquitto's directory (mosquitto-config's
	// output): the cloud rewrites its acl and crl.pem so disabled clocks are
	// refused. MosquittoPIDFile is Mosquitto's pid file, sent SIGHUP after
	// each rewrite.
	MosquittoDir, MosquittoPIDFile string
	// DeviceMQTT (host:port) and DeviceMQTTWS (wss:// URL) are the MQTT
	// endpoints handed to clocks at activation; empty: PublicHost with the
	// ports of MQTTAddr and MQTTWSAddr (with an external broker: the ports
	// it listens on, as mosquitto-config was given them).
	DeviceMQTT, DeviceMQTTWS string
}

// DefaultConfig returns the defaults for production or dev mode.
func DefaultConfig(dev bool) Config {
	c := Config{
		Dev:        dev,
		DataDir:    "/var/lib/timeclock-cloud",
		HTTPAddr:   HTTPAddr,
		HTTPSAddr:  HTTPSAddr,
		MQTTAddr:   MQTTAddr,
		MQTTWSAddr: MQTTWSAddr,
		PublicHost: "localhost",
		SMTP:       notify.SMTPConfig{Port: 587, TLS: notify.StartTLS},
	}
	if dev {
		c.DataDir = "run/cloud"
		c.HTTPAddr, c.HTTPSAddr, c.MQTTAddr, c.MQTTWSAddr = DevHTTPAddr, DevHTTPSAddr, DevMQTTAddr, DevMQTTWSAddr
	}
	return c
}

// Validate checks the config and names every wrong field.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data: missing"))
	}
	for name, a := range map[string]string{"http": c.HTTPAddr, "https": c.HTTPSAddr, "mqtt": c.MQTTAddr, "mqtt-ws": c.MQTTWSAddr} {
		if _, p, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q: want host:port", name, a))
		} else if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("%s: %q: bad port", name, a))
		}
	}
	if c.PublicHost == "" {
		errs = append(errs, errors.New("public-host: missing"))
	}
	// Without --smtp-host, the mail server may be in the store (mail set):
	// Run checks that there is one once it has read the store.
	if c.SMTP.Host != "" {
		if err := c.SMTP.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.MailFrom != "" {
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			errs = append(errs, fmt.Errorf("mail-from: %q: %v", c.MailFrom, err))
		}
	}
	if c.SMS.URL != "" {
		if err := c.SMS.Validate(); err != nil {
			errs = append(errs, err)
		}
	} else if c.SMS.User != "" || c.SMS.Token != "" || c.SMS.From != "" {
		errs = append(errs, errors.New("sms-url: missing; the other --sms flags need it"))
	}
	if c.DemoCompanyID != "" && !c.Dev {
		errs = append(errs, errors.New("demo-company: only with --dev"))
	}
	if c.MQTTBroker != "" {
		if _, err := bus.ParseBrokerURL(c.MQTTBroker); err != nil {
			errs = append(errs, fmt.Errorf("mqtt-broker: %v", err))
		}
		if c.DeviceMQTT == "" && port(c.MQTTAddr) == "0" || c.DeviceMQTTWS == "" && port(c.MQTTWSAddr) == "0" {
			errs = append(errs, errors.New("mqtt-endpoint: with --mqtt-broker the clocks' endpoints need real ports: give --mqtt and --mqtt-ws (the broker's) or --mqtt-endpoint and --mqtt-ws-endpoint"))
		}
	} else {
		for name, v := range map[string]string{"mqtt-client-cert": c.MQTTClientCert, "mqtt-client-key": c.MQTTClientKey, "mqtt-broker-ca": c.MQTTBrokerCA, "mosquitto-dir": c.MosquittoDir} {
			if v != "" {
				errs = append(errs, fmt.Errorf("%s: only with --mqtt-broker", name))
			}
		}
	}
	if c.MosquittoPIDFile != "" && c.MosquittoDir == "" {
		errs = append(errs, errors.New("mosquitto-pid: only with --mosquitto-dir"))
	}
	if c.DeviceMQTT != "" {
		if _, p, err := net.SplitHostPort(c.DeviceMQTT); err != nil || p == "0" {
			errs = append(errs, fmt.Errorf("mqtt-endpoint: %q: want host:port", c.DeviceMQTT))
		}
	}
	if c.DeviceMQTTWS != "" {
		if u, err := url.Parse(c.DeviceMQTTWS); err != nil || u.Scheme != "wss" || u.Port() == "" {
			errs = append(errs, fmt.Errorf("mqtt-ws-endpoint: %q: want wss://host:port/path", c.DeviceMQTTWS))
		}
	}
	if c.DemoCompanyID != "" {
		if err := wire.CheckCompanyID(c.DemoCompanyID); err != nil {
			errs = append(errs, fmt.Errorf("demo-company: %q: %w", c.DemoCompanyID, err))
		}
	}
	return errors.Join(errs...)
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// withSettings fills what the flags left empty from the settings kept in
// the store: the whole mail server when no --smtp-host was given, the whole
// SMS provider when no --sms-url was. A flag given wins over the store, a
// section at a time, so a flag never mixes with a stored password.
func (c Config) withSettings(s store.Settings) Config {
	if c.SMTP.Host == "" && s.SMTP.Host != "" {
		c.SMTP = notify.SMTPConfig{Host: s.SMTP.Host, Port: s.SMTP.Port, TLS: notify.TLSMode(s.SMTP.TLS),
			User: s.SMTP.User, Password: notify.Secret(s.SMTP.Password), Timeout: c.SMTP.Timeout}
		if c.SMTP.Port == 0 {
			c.SMTP.Port = 587
		}
		if c.SMTP.TLS == "" {
			c.SMTP.TLS = notify.StartTLS
		}
		if c.SMTPCAFile == "" {
			c.SMTPCAPEM = []byte(s.SMTP.CAPEM)
		}
		if c.MailFrom == "" {
			c.MailFrom = s.SMTP.From
		}
	}
	if c.SMS.URL == "" && s.SMS.URL != "" {
		c.SMS = notify.SMSConfig{URL: s.SMS.URL, User: s.SMS.User, Token: notify.Secret(s.SMS.Token), From: s.SMS.From,
			Timeout: c.SMS.Timeout, Client: c.SMS.Client}
	}
	return c
}

// checkMail is the rule Validate leaves to Run: outside --dev, the cloud
// must have a mail server (a flag or the store) to mail the codes.
func (c Config) checkMail() error {
	if c.SMTP.Host == "" && !c.Dev {
		return errors.New("smtp-host: missing; the cloud must mail codes: give --smtp-host, or store one with timeclock-cloud mail set (or run with --dev)")
	}
	if c.SMTP.Host != "" {
		if err := c.SMTP.Validate(); err != nil {
			return err
		}
	}
	if c.SMS.URL != "" {
		if err := c.SMS.Validate(); err != nil {
			return err
		}
	}
	return nil
}
