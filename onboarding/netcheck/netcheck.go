// Package netcheck is the clock's LAN-first network check before and during
// onboarding. It diagnoses in the order a person would: link (carrier),
// address (DHCP), default route, DNS, TCP to each of the cloud's four ports,
// the cloud's time over plain HTTP, then TLS to the HTTPS port with the
// cloud's CA. Every step has a result, and the first failure comes with a
// screen text that names the cause and what to do (Advice).
//
// The system facts are injected (Links for /sys and /proc, Net for the
// resolver and dialer) so the check is table-testable; SysLinks and SysNet
// are the real ones, tested inside network namespaces.
package netcheck

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Iface is one of the model's network interfaces.
type Iface struct {
	Name string // e.g. eth0, wlan0
	WiFi bool   // a wireless interface; wired ones are preferred
}

// Ports are the cloud's four channels. Every one is configurable because the
// dev cloud listens on high ports.
type Ports struct {
	HTTP   int `json:"http"`    // plain HTTP: reachability and the cloud's time (80)
	HTTPS  int `json:"https"`   // HTTPS API: onboarding (443)
	MQTT   int `json:"mqtt"`    // MQTT over TLS (59777)
	MQTTWS int `json:"mqtt_ws"` // MQTT over secure WebSocket (59778)
}

// DefaultPorts are the production ports of the seed.
var DefaultPorts = Ports{HTTP: 80, HTTPS: 443, MQTT: 59777, MQTTWS: 59778}

// List returns the ports in the seed's order.
func (p Ports) List() []int { return []int{p.HTTP, p.HTTPS, p.MQTT, p.MQTTWS} }

// ParsePorts reads "HTTP,HTTPS,MQTT,MQTT-WS", e.g. "80,443,59777,59778".
func ParsePorts(s string) (Ports, error) {
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return Ports{}, fmt.Errorf("ports %q: want four, HTTP,HTTPS,MQTT,MQTT-WS", s)
	}
	var n [4]int
	for i, v := range f {
		p, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return Ports{}, fmt.Errorf("ports %q: %s is not a number", s, v)
		}
		n[i] = p
	}
	p := Ports{HTTP: n[0], HTTPS: n[1], MQTT: n[2], MQTTWS: n[3]}
	return p, p.Validate()
}

// String is the ParsePorts form.
func (p Ports) String() string {
	return fmt.Sprintf("%d,%d,%d,%d", p.HTTP, p.HTTPS, p.MQTT, p.MQTTWS)
}

// Validate checks every port is in range.
func (p Ports) Validate() error {
	for i, n := range p.List() {
		if n < 1 || n > 65535 {
			return fmt.Errorf("port %s: %d out of range 1-65535", portNames[i], n)
		}
	}
	return nil
}

var portNames = [...]string{"http", "https", "mqtt", "mqtt-ws"}

// Target is the cloud the check is for.
type Target struct {
	Host  string         // a name or an IP literal
	Ports Ports          //
	CA    *x509.CertPool // the CA to trust for TLS; nil means the system roots
}

// Links reads the state of the device's interfaces (carrier, addresses,
// routes). SysLinks reads /sys, the kernel's interface list and /proc.
type Links interface {
	// Link reports an interface's link state; ErrNoInterface if it does
	// not exist.
	Link(name string) (LinkState, error)
	// Addrs lists the interface's addresses.
	Addrs(name string) ([]netip.Prefix, error)
	// DefaultRoutes lists the default routes, IPv4 and IPv6.
	DefaultRoutes() ([]Route, error)
}

// LinkState is what /sys/class/net/IF says about a link.
type LinkState struct {
	Carrier bool   // a cable is plugged in and the other end is up (WiFi: associated)
	Oper    string // operstate: up, down, dormant, lowerlayerdown, unknown, ...
}

// Route is one default route.
type Route struct {
	Iface   string
	Gateway netip.Addr // invalid for a device route
	Metric  int
}

// Net resolves names and dials. SysNet is the system's resolver and dialer.
type Net interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Timeouts bound each step.
type Timeouts struct {
	DNS  time.Duration
	Dial time.Duration // each TCP connect, all four in parallel
	HTTP time.Duration // the time request on the HTTP port
	TLS  time.Duration // connect plus handshake
}

// DefaultTimeouts suit a slow site network.
var DefaultTimeouts = Timeouts{DNS: 5 * time.Second, Dial: 5 * time.Second, HTTP: 5 * time.Second, TLS: 8 * time.Second}

// StepName names a step of the check, in order.
type StepName string

// The steps, in the order they run.
const (
	StepLink    StepName = "link"
	StepAddress StepName = "address"
	StepRoute   StepName = "route"
	StepDNS     StepName = "dns"
	StepTCP     StepName = "tcp"
	StepTime    StepName = "time"
	StepTLS     StepName = "tls"
)

// Steps lists the steps in order.
var Steps = []StepName{StepLink, StepAddress, StepRoute, StepDNS, StepTCP, StepTime, StepTLS}

// Outcome is how a step went.
type Outcome string

// Step outcomes.
const (
	OK      Outcome = "ok"
	Failed  Outcome = "failed"
	Warning Outcome = "warning" // something is wrong but onboarding can go on
	Skipped Outcome = "skipped" // not applicable (IP literal, simulated board) or an earlier step failed
)

// StepResult is one step's outcome.
type StepResult struct {
	Step    StepName
	Outcome Outcome
	Detail  string // what was found, for the console and logs
	Err     error  // the underlying error of a failure
}

// PortResult is one TCP connect.
type PortResult struct {
	Port    int
	OK      bool
	Refused bool // the host answered with a reset: closed or rejected
	Timeout bool // no answer: dropped by a firewall
	Err     error
}

// Report is the outcome of a check.
type Report struct {
	Iface     string // the interface in use; "" when none has a link
	WiFi      bool   // it is a wireless interface
	LANAdvice bool   // WiFi is in use although the model has a LAN port: advise LAN for onboarding
	Steps     []StepResult
	Ports     []PortResult // in Ports.List order, when the TCP step ran
	Addr      netip.Addr   // the cloud address the connects went to
	// CloudTime is the cloud's time from the HTTP Date header, and LocalTime
	// the device's clock when it was read; zero when the step did not run.
	CloudTime, LocalTime time.Time
	// Target and Ifaces are what was checked; the advice names them.
	Target Target
	Ifaces []Iface
}

// Step returns the result of one step.
func (r Report) Step(s StepName) StepResult {
	for _, st := range r.Steps {
		if st.Step == s {
			return st
		}
	}
	return StepResult{Step: s, Outcome: Skipped}
}

// FirstProblem returns the first failed or warning step, and false when the
// network is fine.
func (r Report) FirstProblem() (StepResult, bool) {
	for _, st := range r.Steps {
		if st.Outcome == Failed || st.Outcome == Warning {
			return st, true
		}
	}
	return StepResult{}, false
}

// OK reports whether onboarding can go on: no step failed (warnings allowed).
func (r Report) OK() bool {
	for _, st := range r.Steps {
		if st.Outcome == Failed {
			return false
		}
	}
	return len(r.Steps) > 0
}

// ClockOffset is how far the cloud's clock is ahead of the device's, and
// whether it is known.
func (r Report) ClockOffset() (time.Duration, bool) {
	if r.CloudTime.IsZero() {
		return 0, false
	}
	return r.CloudTime.Sub(r.LocalTime), true
}
