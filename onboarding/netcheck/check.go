package netcheck

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"timeclock/clock"
	"timeclock/internal/httpc"
	"timeclock/wire"
)

// Checker runs the network check. Its fields are the injected system facts.
type Checker struct {
	// Links reads the interfaces. Nil means a simulated board with no
	// interfaces of its own: link, address and route are skipped.
	Links Links
	// Net resolves and dials; nil means SysNet{}.
	Net Net
	// Ifaces are the model's interfaces; wired ones are tried first.
	Ifaces []Iface
	Target Target
	// Timeouts bound the steps; zero fields take DefaultTimeouts.
	Timeouts Timeouts
	// Clock is the device's clock (for the time step and TLS); nil is real.
	Clock clock.Clock
	// Floor, if set, is the time floor (clock.Keeper.Floor): certificates
	// are never checked at a time below it, as the onboarding API client
	// does. A board whose clock reads a plausible but stale time (a
	// systemd build date, an old RTC) is not taken for the truth.
	Floor func() time.Time
}

// Run performs the check. It never returns an error: every problem is in the
// report. A canceled ctx fails the step that was running.
func (c *Checker) Run(ctx context.Context) Report {
	c.defaults()
	r := Report{Target: c.Target, Ifaces: c.Ifaces}
	add := func(s StepResult) bool {
		r.Steps = append(r.Steps, s)
		return s.Outcome != Failed
	}
	skipRest := func(from StepName) {
		i := slices.Index(Steps, from)
		for _, s := range Steps[i:] {
			r.Steps = append(r.Steps, StepResult{Step: s, Outcome: Skipped, Detail: "an earlier step failed"})
		}
	}
	for _, step := range []struct {
		name StepName
		run  func(context.Context, *Report) StepResult
	}{
		{StepLink, c.link},
		{StepAddress, c.address},
		{StepRoute, c.route},
		{StepDNS, c.dns},
		{StepTCP, c.tcp},
		{StepTime, c.cloudTime},
		{StepTLS, c.tls},
	} {
		res := step.run(ctx, &r)
		res.Step = step.name
		if !add(res) {
			if i := slices.Index(Steps, step.name); i+1 < len(Steps) {
				skipRest(Steps[i+1])
			}
			break
		}
	}
	return r
}

func (c *Checker) defaults() {
	if c.Net == nil {
		c.Net = SysNet{}
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	d := DefaultTimeouts
	t := &c.Timeouts
	for _, p := range []struct{ v, def *time.Duration }{{&t.DNS, &d.DNS}, {&t.Dial, &d.Dial}, {&t.HTTP, &d.HTTP}, {&t.TLS, &d.TLS}} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
}

// usable reports whether a link can carry traffic: carrier, and an
// operstate that is not down (dormant is a WiFi not yet authenticated).
func usable(st LinkState) bool {
	return st.Carrier && (st.Oper == "up" || st.Oper == "unknown" || st.Oper == "")
}

func (c *Checker) link(_ context.Context, r *Report) StepResult {
	if c.Links == nil {
		r.Iface = "sim"
		return StepResult{Outcome: Skipped, Detail: "simulated board: no interfaces of its own"}
	}
	ifaces := slices.Clone(c.Ifaces)
	// Wired first, each kind in the given order (sort.SliceStable: one
	// copy of the sort for every element type).
	sort.SliceStable(ifaces, func(i, j int) bool { return !ifaces[i].WiFi && ifaces[j].WiFi })
	var seen []string
	hasLAN := false
	for _, ifc := range ifaces {
		hasLAN = hasLAN || !ifc.WiFi
		st, err := c.Links.Link(ifc.Name)
		switch {
		case err != nil:
			seen = append(seen, ifc.Name+": "+err.Error())
			continue
		case !usable(st):
			seen = append(seen, fmt.Sprintf("%s: no link (carrier %t, %s)", ifc.Name, st.Carrier, st.Oper))
			continue
		}
		r.Iface, r.WiFi = ifc.Name, ifc.WiFi
		r.LANAdvice = ifc.WiFi && hasLAN
		detail := ifc.Name + " up"
		if len(seen) > 0 {
			detail += "; " + strings.Join(seen, "; ")
		}
		return StepResult{Outcome: OK, Detail: detail}
	}
	if len(ifaces) == 0 {
		return StepResult{Outcome: Failed, Detail: "the model lists no network interface", Err: errors.New("no interfaces")}
	}
	return StepResult{Outcome: Failed, Detail: strings.Join(seen, "; "), Err: errors.New("no interface has a link")}
}

// usableAddr is an address a DHCP server or static setup gave: not loopback,
// not link-local (169.254/16 means DHCP failed).
func usableAddr(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsLinkLocalUnicast()
}

func (c *Checker) address(_ context.Context, r *Report) StepResult {
	if c.Links == nil {
		return StepResult{Outcome: Skipped, Detail: "simulated board"}
	}
	ps, err := c.Links.Addrs(r.Iface)
	if err != nil {
		return StepResult{Outcome: Failed, Detail: err.Error(), Err: err}
	}
	var good, other []string
	for _, p := range ps {
		if usableAddr(p.Addr()) {
			good = append(good, p.String())
		} else {
			other = append(other, p.String())
		}
	}
	if len(good) == 0 {
		d := r.Iface + " has no address"
		if len(other) > 0 {
			d += " (only " + strings.Join(other, ", ") + ")"
		}
		return StepResult{Outcome: Failed, Detail: d, Err: errors.New("no address")}
	}
	return StepResult{Outcome: OK, Detail: strings.Join(good, ", ")}
}

func (c *Checker) route(_ context.Context, r *Report) StepResult {
	if c.Links == nil {
		return StepResult{Outcome: Skipped, Detail: "simulated board"}
	}
	routes, err := c.Links.DefaultRoutes()
	if err != nil {
		return StepResult{Outcome: Failed, Detail: err.Error(), Err: err}
	}
	var elsewhere []string
	for _, rt := range routes {
		if rt.Iface == r.Iface {
			d := "default route on " + rt.Iface
			if rt.Gateway.IsValid() {
				d += " via " + rt.Gateway.String()
			}
			return StepResult{Outcome: OK, Detail: d}
		}
		elsewhere = append(elsewhere, rt.Iface)
	}
	// A cloud on the local subnet needs no gateway.
	if ip, err := netip.ParseAddr(c.Target.Host); err == nil {
		if ps, err := c.Links.Addrs(r.Iface); err == nil {
			for _, p := range ps {
				if p.Contains(ip) {
					return StepResult{Outcome: OK, Detail: "cloud is on the local subnet " + p.Masked().String()}
				}
			}
		}
	}
	d := "no default route on " + r.Iface
	if len(elsewhere) > 0 {
		d += " (default route on " + strings.Join(elsewhere, ", ") + ")"
	}
	return StepResult{Outcome: Failed, Detail: d, Err: errors.New("no default route")}
}

func (c *Checker) dns(ctx context.Context, r *Report) StepResult {
	if ip, err := netip.ParseAddr(c.Target.Host); err == nil {
		r.Addr = ip.Unmap()
		return StepResult{Outcome: Skipped, Detail: "the cloud is an IP address: no lookup"}
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeouts.DNS)
	defer cancel()
	addrs, err := c.Net.LookupNetIP(ctx, "ip", c.Target.Host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no addresses", Name: c.Target.Host, IsNotFound: true}
	}
	if err != nil {
		return StepResult{Outcome: Failed, Detail: err.Error(), Err: err}
	}
	// Prefer IPv4: site networks without working IPv6 are common.
	r.Addr = addrs[0].Unmap()
	for _, a := range addrs {
		if a.Unmap().Is4() {
			r.Addr = a.Unmap()
			break
		}
	}
	var s []string
	for _, a := range addrs {
		s = append(s, a.Unmap().String())
	}
	return StepResult{Outcome: OK, Detail: c.Target.Host + " is " + strings.Join(s, ", ")}
}

func hostPort(a netip.Addr, port int) string { return net.JoinHostPort(a.String(), strconv.Itoa(port)) }

func (c *Checker) tcp(ctx context.Context, r *Report) StepResult {
	ports := c.Target.Ports.List()
	r.Ports = make([]PortResult, len(ports))
	var wg sync.WaitGroup
	for i, port := range ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Ports[i] = c.dial(ctx, r.Addr, port)
		}()
	}
	wg.Wait()
	var parts []string
	var failed []int
	httpsOK := false
	for _, p := range r.Ports {
		switch {
		case p.OK:
			parts = append(parts, fmt.Sprintf("%d ok", p.Port))
			httpsOK = httpsOK || p.Port == c.Target.Ports.HTTPS
		case p.Refused:
			parts = append(parts, fmt.Sprintf("%d refused", p.Port))
		case p.Timeout:
			parts = append(parts, fmt.Sprintf("%d no answer", p.Port))
		default:
			parts = append(parts, fmt.Sprintf("%d %v", p.Port, p.Err))
		}
		if !p.OK {
			failed = append(failed, p.Port)
		}
	}
	d := strings.Join(parts, ", ")
	switch {
	case len(failed) == 0:
		return StepResult{Outcome: OK, Detail: d}
	case !httpsOK:
		// Onboarding needs the HTTPS port; nothing else can replace it.
		return StepResult{Outcome: Failed, Detail: d, Err: fmt.Errorf("ports %v unreachable", failed)}
	}
	return StepResult{Outcome: Warning, Detail: d, Err: fmt.Errorf("ports %v unreachable", failed)}
}

func (c *Checker) dial(ctx context.Context, a netip.Addr, port int) PortResult {
	ctx, cancel := context.WithTimeout(ctx, c.Timeouts.Dial)
	defer cancel()
	conn, err := c.Net.DialContext(ctx, "tcp", hostPort(a, port))
	if err == nil {
		conn.Close()
		return PortResult{Port: port, OK: true}
	}
	res := PortResult{Port: port, Err: err}
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		res.Refused = true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		res.Timeout = true
	}
	return res
}

// portOK reports whether the TCP step reached the port.
func (r *Report) portOK(port int) bool {
	for _, p := range r.Ports {
		if p.Port == port {
			return p.OK
		}
	}
	return false
}

// cloudTime reads the cloud's Date header from the plain HTTP port. It never
// fails the check: the time only matters to TLS on a clock that was never set.
func (c *Checker) cloudTime(ctx context.Context, r *Report) StepResult {
	if !r.portOK(c.Target.Ports.HTTP) {
		return StepResult{Outcome: Skipped, Detail: "HTTP port not reachable"}
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeouts.HTTP)
	defer cancel()
	addr := hostPort(r.Addr, c.Target.Ports.HTTP)
	hc := &httpc.Client{
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.Net.DialContext(ctx, "tcp", addr)
		},
	}
	host := net.JoinHostPort(c.Target.Host, strconv.Itoa(c.Target.Ports.HTTP))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+wire.PathTime, nil)
	if err != nil {
		return StepResult{Outcome: Skipped, Detail: err.Error(), Err: err}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return StepResult{Outcome: Skipped, Detail: "no cloud time: " + err.Error(), Err: err}
	}
	resp.Body.Close()
	t, err := ParseDate(resp.Header.Get("Date"))
	if err != nil {
		return StepResult{Outcome: Skipped, Detail: "no cloud time: " + err.Error(), Err: err}
	}
	r.CloudTime, r.LocalTime = t, c.Clock.Now()
	off, _ := r.ClockOffset()
	return StepResult{Outcome: OK, Detail: fmt.Sprintf("cloud time %s (clock off by %s)", t.UTC().Format(time.RFC3339), off.Round(time.Second))}
}

// ParseDate reads an HTTP Date header.
func ParseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("no Date header")
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date header %q: %w", s, err)
	}
	if !clock.IsSet(t) {
		return time.Time{}, fmt.Errorf("date header %q: before %d", s, clock.MinValid.Year())
	}
	return t, nil
}

// TLSTime is the time to verify certificates with, never below floor (zero:
// none): the device's clock, or the cloud's time read over HTTP (the clock
// moved by offset, when known) while the clock is not believed: never set
// (no RTC battery, NTP blocked), or below the floor (a board without an RTC
// battery starts at systemd's build date, months back, and a certificate
// issued since its firmware was built is not valid yet at the floor).
func TLSTime(now, floor time.Time, offset time.Duration, known bool) time.Time {
	t := now
	if known && (!clock.IsSet(now) || now.Before(floor)) {
		t = now.Add(offset)
	}
	return clock.Raise(t, floor)
}

func (c *Checker) tls(ctx context.Context, r *Report) StepResult {
	if !r.portOK(c.Target.Ports.HTTPS) {
		return StepResult{Outcome: Skipped, Detail: "HTTPS port not reachable"}
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeouts.TLS)
	defer cancel()
	conn, err := c.Net.DialContext(ctx, "tcp", hostPort(r.Addr, c.Target.Ports.HTTPS))
	if err != nil {
		return StepResult{Outcome: Failed, Detail: err.Error(), Err: err}
	}
	defer conn.Close()
	off, known := r.ClockOffset()
	tc := tls.Client(conn, &tls.Config{
		ServerName: c.Target.Host,
		RootCAs:    c.Target.CA,
		MinVersion: tls.VersionTLS12,
		Time: func() time.Time {
			var floor time.Time
			if c.Floor != nil {
				floor = c.Floor()
			}
			return TLSTime(c.Clock.Now(), floor, off, known)
		},
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		return StepResult{Outcome: Failed, Detail: err.Error(), Err: err}
	}
	st := tc.ConnectionState()
	d := "TLS ok"
	if len(st.PeerCertificates) > 0 {
		d += ", certificate for " + st.PeerCertificates[0].Subject.CommonName
	}
	return StepResult{Outcome: OK, Detail: d}
}
