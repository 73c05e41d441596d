// Package cloud assembles the reference cloud: the store, the CA, the
// mailer, the onboarding service and the HTTP(S) servers, run together
// until the context ends. cmd/timeclock-cloud is its thin main.
package cloud

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"

	cmail "timeclock/cloud/mail"
	"timeclock/cloud/sms"
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
	// SMTP is the mail server; an empty Host means none (dev mode only).
	SMTP cmail.SMTPConfig
	// SMTPCAFile is a PEM file of CAs to trust for the SMTP server, added to
	// the system roots' place; empty uses the system roots.
	SMTPCAFile string
	// MailFrom is the From of every mail.
	MailFrom string
	// DemoCompanyID is the demo company's ID on a first dev start; empty
	// picks a random one.
	DemoCompanyID string
	// SMS is the HTTP SMS provider that texts the company setup code; an
	// empty URL means none (dev mode still writes DataDir/sms-outbox).
	SMS sms.HTTPConfig
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
		SMTP:       cmail.SMTPConfig{Port: 587, TLS: cmail.StartTLS},
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
	if c.SMTP.Host != "" {
		if err := c.SMTP.Validate(); err != nil {
			errs = append(errs, err)
		}
	} else if !c.Dev {
		errs = append(errs, errors.New("smtp-host: missing; the cloud must mail codes (or run with --dev)"))
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
	if c.DemoCompanyID != "" && (len(c.DemoCompanyID) < 4 || len(c.DemoCompanyID) > 12 || !digits(c.DemoCompanyID)) {
		errs = append(errs, fmt.Errorf("demo-company: %q: want 4 to 12 digits", c.DemoCompanyID))
	}
	return errors.Join(errs...)
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
