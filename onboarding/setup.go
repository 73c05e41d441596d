package onboarding

// This file is the clock as onboarding sees it: Setup turns the agent's
// config and the model into the cloud target, the LAN-first network check
// of the model's interfaces and the API client, which Run and the
// console's network check use.

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"time"

	"timeclock/clock"
	"timeclock/hal"
	"timeclock/onboarding/identity"
	"timeclock/onboarding/netcheck"
	"timeclock/wire"
)

// System are the system facts onboarding needs; cmd/timeclockd picks them
// for the board.
type System struct {
	// Links reads the network interfaces for the check. Nil means a
	// simulated board without interfaces of its own: the link, address and
	// route steps are skipped; DNS, the ports and TLS are checked for real.
	Links netcheck.Links
	// Net resolves and dials; nil is the system's.
	Net netcheck.Net
	// Serial returns the device serial; nil generates one, kept in
	// STATE_DIR (right for a simulated board).
	Serial func() (string, error)
	// NetTimeouts bound the check's steps; zero fields take the defaults.
	NetTimeouts netcheck.Timeouts
	// CloudTimeout bounds each API request; zero is 20 s.
	CloudTimeout time.Duration
}

// DialContext is the injected dial, for the sync's TLS port too (nil: the
// system's).
func (o System) DialContext() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if o.Net == nil {
		return nil
	}
	return o.Net.DialContext
}

// Setup is this clock as onboarding sees it: its cloud as the config names
// it, its model and devices, and the system facts.
type Setup struct {
	CloudURL string
	CloudCA  string // a PEM file; "" trusts CloudCAPEM, or else the system roots
	// CloudCAPEM is the CA an onboarded clock got from its cloud, trusted
	// when CloudCA names no file.
	CloudCAPEM []byte
	Ports      netcheck.Ports // a port in CloudURL wins for HTTPS (Target)
	StateDir   string
	Firmware   string
	Model      string
	Network    []string // the model's interfaces, LAN first
	WiFi       []string // the wireless ones among Network
	Display    hal.Display
	// Indicator may be nil.
	Indicator hal.Indicator
	Clock     clock.Clock
	// TimeSample and Floor are the clock's time keeping as the API client
	// uses it (ClientConfig); nil: none.
	TimeSample func(clock.Sample)
	Floor      func() time.Time
	TLSHint    func(cloud, local time.Time)
	Logger     *slog.Logger
	System     System
}

// Target is the cloud's host, ports and CA as the config names them: the
// ports are Ports, with the HTTPS port taken from the cloud URL when it
// names one. Its errors name the config field.
func (s Setup) Target() (netcheck.Target, error) {
	u, err := url.Parse(s.CloudURL)
	if err != nil || u.Hostname() == "" {
		return netcheck.Target{}, fmt.Errorf("cloud_url %q: no host", s.CloudURL)
	}
	t := netcheck.Target{Host: u.Hostname(), Ports: s.Ports}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return netcheck.Target{}, fmt.Errorf("cloud_url %q: port %s out of range (1-65535)", s.CloudURL, p)
		}
		t.Ports.HTTPS = n
	}
	if s.CloudCA == "" && len(s.CloudCAPEM) > 0 {
		t.CA = x509.NewCertPool()
		if !t.CA.AppendCertsFromPEM(s.CloudCAPEM) {
			return netcheck.Target{}, errors.New("the identity's cloud CA: no PEM certificate in it")
		}
	}
	if s.CloudCA != "" {
		b, err := os.ReadFile(s.CloudCA)
		if err != nil {
			return netcheck.Target{}, fmt.Errorf("cloud_ca: %w", err)
		}
		t.CA = x509.NewCertPool()
		if !t.CA.AppendCertsFromPEM(b) {
			return netcheck.Target{}, fmt.Errorf("cloud_ca %s: no PEM certificate in it", s.CloudCA)
		}
	}
	return t, nil
}

// Checker is the network check of this model against the cloud.
func (s Setup) Checker(target netcheck.Target) *netcheck.Checker {
	o := s.System
	var ifaces []netcheck.Iface
	for _, n := range s.Network {
		ifaces = append(ifaces, netcheck.Iface{Name: n, WiFi: slices.Contains(s.WiFi, n)})
	}
	return &netcheck.Checker{Links: o.Links, Net: o.Net, Ifaces: ifaces, Timeouts: o.NetTimeouts, Clock: s.Clock, Floor: s.Floor, Target: target}
}

// Options builds what Run needs to onboard the clock into store with the
// keypad's keys, dropping the badges swiped meanwhile: the target, the
// network check, the device serial and the API client. Run closes the
// client.
func (s Setup) Options(store *identity.Store, keys <-chan hal.KeyEvent, badges <-chan hal.BadgeEvent) (Options, error) {
	o := s.System
	target, err := s.Target()
	if err != nil {
		return Options{}, err
	}
	serial := o.Serial
	if serial == nil {
		serial = func() (string, error) { return identity.DeviceSerial(identity.SerialOpts{StateDir: s.StateDir}) }
	}
	sn, err := serial()
	if err != nil {
		return Options{}, err
	}
	cc := ClientConfig{BaseURL: s.CloudURL, CA: target.CA, Timeout: o.CloudTimeout, Clock: s.Clock, TimeSample: s.TimeSample, Floor: s.Floor, TLSHint: s.TLSHint}
	if o.Net != nil {
		cc.Dial = o.Net.DialContext
	}
	client, err := NewClient(cc)
	if err != nil {
		return Options{}, err
	}
	return Options{
		Keys: keys, Badges: badges, Display: s.Display, Indicator: s.Indicator, Clock: s.Clock, Logger: s.Logger,
		Net:      s.Checker(target),
		Cloud:    client,
		Store:    store,
		Device:   wire.Device{Serial: sn, Model: s.Model, Firmware: s.Firmware},
		CloudURL: s.CloudURL,
		Ports:    target.Ports,
		StateDir: s.StateDir,
	}, nil
}
