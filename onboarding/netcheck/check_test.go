package netcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/internal/testpki"
	"timeclock/wire"
)

// fakeLinks is a table of interface facts.
type fakeLinks struct {
	links  map[string]LinkState
	addrs  map[string][]netip.Prefix
	routes []Route
}

func (f fakeLinks) Link(name string) (LinkState, error) {
	st, ok := f.links[name]
	if !ok {
		return LinkState{}, fmt.Errorf("%s: %w", name, ErrNoInterface)
	}
	return st, nil
}

func (f fakeLinks) Addrs(name string) ([]netip.Prefix, error) { return f.addrs[name], nil }
func (f fakeLinks) DefaultRoutes() ([]Route, error)           { return f.routes, nil }

// fakeNet resolves from a table and answers connects per port: an error, or
// a real loopback address to connect to instead.
type fakeNet struct {
	hosts map[string][]netip.Addr
	dnsEr error
	ports map[int]any // error or string (loopback host:port)
	dials []string
}

func (f *fakeNet) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if f.dnsEr != nil {
		return nil, f.dnsEr
	}
	a, ok := f.hosts[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return a, nil
}

func (f *fakeNet) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	_, ps, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(ps)
	switch v := f.ports[port].(type) {
	case error:
		return nil, &net.OpError{Op: "dial", Net: network, Err: v}
	case string:
		var d net.Dialer
		return d.DialContext(ctx, network, v)
	}
	// Default: an open port whose peer says nothing.
	a, b := net.Pipe()
	go func() { b.Close() }()
	return a, nil
}

var (
	lanUp   = LinkState{Carrier: true, Oper: "up"}
	linkOff = LinkState{Carrier: false, Oper: "down"}
	twoNICs = []Iface{{Name: "wlan0", WiFi: true}, {Name: "eth0"}}
	pfx     = netip.MustParsePrefix
	target  = Target{Host: "cloud.example", Ports: DefaultPorts}
)

type timeoutErr struct{}

func (timeoutErr) Error() string { return "i/o timeout" }
func (timeoutErr) Timeout() bool { return true }

func goodLinks() fakeLinks {
	return fakeLinks{
		links:  map[string]LinkState{"eth0": lanUp, "wlan0": lanUp},
		addrs:  map[string][]netip.Prefix{"eth0": {pfx("10.1.0.2/24"), pfx("fe80::1/64")}, "wlan0": {pfx("10.2.0.2/24")}},
		routes: []Route{{Iface: "eth0", Gateway: netip.MustParseAddr("10.1.0.1"), Metric: 100}, {Iface: "wlan0", Metric: 600}},
	}
}

func goodNet() *fakeNet {
	return &fakeNet{hosts: map[string][]netip.Addr{"cloud.example": {netip.MustParseAddr("2001:db8::9"), netip.MustParseAddr("10.9.0.1")}}, ports: map[int]any{}}
}

// TestCheckSteps runs the check on fake system facts: which steps pass,
// which interface is used and what the screen says.
func TestCheckSteps(t *testing.T) {
	for _, tc := range []struct {
		name      string
		links     func(*fakeLinks)
		net       func(*fakeNet)
		target    func(*Target)
		ok        bool
		iface     string
		lanAdvice bool
		problem   StepName
		title     string
		text      string // a sentence of the advice
		goOn      bool
	}{
		{name: "lan preferred", ok: true, iface: "eth0", problem: ""},
		{name: "lan down wifi up", links: func(l *fakeLinks) { l.links["eth0"] = linkOff }, ok: true, iface: "wlan0", lanAdvice: true},
		{name: "lan missing wifi up", links: func(l *fakeLinks) { delete(l.links, "eth0") }, ok: true, iface: "wlan0", lanAdvice: true},
		{name: "wifi dormant is no link", links: func(l *fakeLinks) {
			l.links["eth0"] = linkOff
			l.links["wlan0"] = LinkState{Carrier: true, Oper: "dormant"}
		}, problem: StepLink, title: "No network cable", text: "Plug in the LAN cable"},
		{name: "no dhcp", links: func(l *fakeLinks) { l.addrs["eth0"] = []netip.Prefix{pfx("169.254.3.4/16"), pfx("fe80::1/64")} },
			problem: StepAddress, iface: "eth0", title: "No IP address", text: "eth0 got no address from DHCP"},
		{name: "no gateway", links: func(l *fakeLinks) { l.routes = l.routes[1:] }, problem: StepRoute, iface: "eth0", title: "No gateway", text: "eth0 has no default route"},
		{name: "on-link cloud needs no gateway", links: func(l *fakeLinks) { l.routes = nil }, target: func(t *Target) { t.Host = "10.1.0.50" }, ok: true, iface: "eth0"},
		{name: "ipv6 default route", links: func(l *fakeLinks) {
			l.routes = []Route{{Iface: "eth0", Gateway: netip.MustParseAddr("fe80::1")}}
		}, ok: true, iface: "eth0"},
		{name: "dns unknown name", net: func(n *fakeNet) { n.hosts = nil }, problem: StepDNS, title: "Cloud name unknown", text: "DNS does not know cloud.example"},
		{name: "dns server down", net: func(n *fakeNet) {
			n.dnsEr = &net.DNSError{Err: "i/o timeout", Name: "cloud.example", IsTimeout: true}
		}, problem: StepDNS, title: "DNS failed", text: "Check the DNS server"},
		{name: "port 59777 dropped", net: func(n *fakeNet) { n.ports[59777] = timeoutErr{} }, ok: true, problem: StepTCP,
			title: "Port 59777 blocked", text: "Ask IT to allow ports 80, 443, 59777, 59778.", goOn: true},
		{name: "two ports", net: func(n *fakeNet) { n.ports[59777] = timeoutErr{}; n.ports[59778] = syscall.ECONNREFUSED }, ok: true, problem: StepTCP,
			title: "Ports 59777,59778 blocked", goOn: true},
		{name: "https refused", net: func(n *fakeNet) { n.ports[443] = syscall.ECONNREFUSED }, problem: StepTCP,
			title: "Port 443 closed", text: "Setup needs port 443."},
		{name: "cloud down", net: func(n *fakeNet) {
			for _, p := range DefaultPorts.List() {
				n.ports[p] = syscall.ECONNREFUSED
			}
		}, problem: StepTCP, title: "Cloud unreachable", text: "The cloud may be down"},
		{name: "all dropped", net: func(n *fakeNet) {
			for _, p := range DefaultPorts.List() {
				n.ports[p] = timeoutErr{}
			}
		}, problem: StepTCP, title: "Cloud unreachable", text: "No answer from cloud.example on any port"},
		{name: "dev ports", target: func(t *Target) { t.Ports = Ports{18080, 18443, 18883, 18884} }, net: func(n *fakeNet) { n.ports[18883] = timeoutErr{} },
			ok: true, problem: StepTCP, title: "Port 18883 blocked", text: "Ask IT to allow ports 18080, 18443, 18883, 18884.", goOn: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, n, tg := goodLinks(), goodNet(), target
			if tc.links != nil {
				tc.links(&l)
			}
			if tc.net != nil {
				tc.net(n)
			}
			if tc.target != nil {
				tc.target(&tg)
			}
			c := &Checker{Links: l, Net: n, Ifaces: twoNICs, Target: tg, Clock: clock.NewFake(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))}
			// TLS is tested separately: here the HTTPS port's peer hangs up.
			r := c.Run(context.Background())
			if len(r.Steps) != len(Steps) {
				t.Fatalf("%d step results, want %d: %+v", len(r.Steps), len(Steps), r.Steps)
			}
			for i, s := range r.Steps {
				if s.Step != Steps[i] {
					t.Fatalf("step %d is %s, want %s", i, s.Step, Steps[i])
				}
			}
			wantOK := tc.ok
			if tc.problem == "" || tc.goOn {
				// Only the fake TLS peer fails: the check is otherwise fine.
				if r.Step(StepTLS).Outcome != Failed {
					t.Errorf("tls step = %+v, want failed on the fake peer", r.Step(StepTLS))
				}
				r.Steps[len(r.Steps)-1].Outcome = OK
			}
			if r.OK() != wantOK {
				t.Errorf("OK() = %v, want %v; steps %+v", r.OK(), wantOK, r.Steps)
			}
			if tc.iface != "" && r.Iface != tc.iface {
				t.Errorf("iface %q, want %q", r.Iface, tc.iface)
			}
			if r.LANAdvice != tc.lanAdvice {
				t.Errorf("LANAdvice = %v, want %v", r.LANAdvice, tc.lanAdvice)
			}
			st, has := r.FirstProblem()
			if tc.problem == "" {
				if has {
					t.Fatalf("unexpected problem %+v", st)
				}
				return
			}
			if st.Step != tc.problem {
				t.Fatalf("first problem at %s (%s), want %s", st.Step, st.Detail, tc.problem)
			}
			a, _ := r.Advice()
			if a.Title != tc.title || a.CanContinue != tc.goOn {
				t.Errorf("advice %q (go on %v), want %q (go on %v)", a.Title, a.CanContinue, tc.title, tc.goOn)
			}
			if tc.text != "" && !strings.Contains(strings.Join(a.Text, " "), tc.text) {
				t.Errorf("advice text %q lacks %q", a.Text, tc.text)
			}
			// Steps after a failure are skipped, never silently passed.
			if st.Outcome == Failed {
				after := false
				for _, s := range r.Steps {
					if after && s.Outcome != Skipped {
						t.Errorf("step %s after the failure is %s", s.Step, s.Outcome)
					}
					after = after || s.Step == st.Step
				}
			}
		})
	}
}

func TestCheckPrefersIPv4AndDialsIt(t *testing.T) {
	n := goodNet()
	c := &Checker{Links: goodLinks(), Net: n, Ifaces: twoNICs, Target: target}
	r := c.Run(context.Background())
	if r.Addr != netip.MustParseAddr("10.9.0.1") {
		t.Fatalf("dialled %v, want the IPv4 address", r.Addr)
	}
}

func TestSimulatedBoardSkipsLinkSteps(t *testing.T) {
	c := &Checker{Net: goodNet(), Target: Target{Host: "127.0.0.1", Ports: DefaultPorts}}
	r := c.Run(context.Background())
	for _, s := range []StepName{StepLink, StepAddress, StepRoute, StepDNS} {
		if r.Step(s).Outcome != Skipped {
			t.Errorf("%s = %+v, want skipped", s, r.Step(s))
		}
	}
	if r.Step(StepTCP).Outcome != OK || r.Iface != "sim" {
		t.Errorf("tcp %+v iface %q", r.Step(StepTCP), r.Iface)
	}
}

func TestNoInterfacesAtAll(t *testing.T) {
	c := &Checker{Links: fakeLinks{}, Net: goodNet(), Ifaces: []Iface{{Name: "wlan0", WiFi: true}}, Target: target}
	r := c.Run(context.Background())
	a, _ := r.Advice()
	if r.OK() || a.Title != "No WiFi link" {
		t.Fatalf("wifi-only model without link: ok=%v advice %+v", r.OK(), a)
	}
}

// tlsCloud is a loopback HTTPS server plus a plain HTTP time server, and the
// fake Net that sends the four ports to them.
func tlsCloud(t *testing.T) (*fakeNet, *x509.CertPool, *httptest.Server) {
	t.Helper()
	ca := testpki.NewCA(t, "test cloud CA")
	s := httptest.NewUnstartedServer(http.NotFoundHandler())
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t, "example.com", "127.0.0.1")}}
	s.StartTLS()
	t.Cleanup(s.Close)
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wire.PathTime {
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(h.Close)
	pool := ca.Pool()
	n := goodNet()
	n.hosts["example.com"] = []netip.Addr{netip.MustParseAddr("10.9.0.1")}
	n.ports[443] = s.Listener.Addr().String()
	n.ports[80] = h.Listener.Addr().String()
	return n, pool, s
}

func TestTLSStep(t *testing.T) {
	wrongPool := testpki.NewCA(t, "another CA").Pool()

	for _, tc := range []struct {
		name  string
		host  string
		pool  func(good *x509.CertPool) *x509.CertPool
		now   time.Time
		floor time.Time
		ok    bool
		title string
	}{
		// httptest certificates are for example.com and 127.0.0.1.
		{name: "trusted", host: "example.com", ok: true},
		{name: "wrong CA", host: "example.com", pool: func(*x509.CertPool) *x509.CertPool { return wrongPool }, title: "Cloud not trusted"},
		{name: "system roots", host: "example.com", pool: func(*x509.CertPool) *x509.CertPool { return nil }, title: "Cloud not trusted"},
		{name: "wrong name", host: "cloud.example", title: "Wrong certificate"},
		// A clock that never had its time set verifies with the cloud's
		// time read over HTTP.
		{name: "unset clock uses cloud time", host: "example.com", now: time.Unix(100, 0), ok: true},
		{name: "clock far ahead", host: "example.com", now: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), title: "Certificate date bad"},
		// A clock at a plausible but stale time (a board without an RTC
		// battery at systemd's build date) before the certificate's start:
		// checked at the floor (the build time, the last good time), as
		// the API client checks it.
		{name: "stale clock below the floor", host: "example.com", now: time.Now().Add(-200 * 24 * time.Hour), floor: time.Now(), ok: true},
		{name: "stale clock, no floor", host: "example.com", now: time.Now().Add(-200 * 24 * time.Hour), title: "Certificate date bad"},
		// The same clock, its firmware built before the certificate was
		// issued: the floor is too early, so the cloud's time (port 80)
		// checks it.
		{name: "stale clock, certificate newer than the floor", host: "example.com", now: time.Now().Add(-200 * 24 * time.Hour), floor: time.Now().Add(-30 * 24 * time.Hour), ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, pool, _ := tlsCloud(t)
			if tc.pool != nil {
				pool = tc.pool(pool)
			}
			var clk clock.Clock = clock.Real{}
			if !tc.now.IsZero() {
				clk = clock.NewFake(tc.now)
			}
			c := &Checker{Links: goodLinks(), Net: n, Ifaces: twoNICs, Target: Target{Host: tc.host, Ports: DefaultPorts, CA: pool}, Clock: clk}
			if !tc.floor.IsZero() {
				c.Floor = func() time.Time { return tc.floor }
			}
			r := c.Run(context.Background())
			if r.Step(StepTime).Outcome != OK {
				t.Errorf("time step %+v", r.Step(StepTime))
			}
			if r.OK() != tc.ok {
				t.Fatalf("OK = %v, want %v: %+v", r.OK(), tc.ok, r.Step(StepTLS))
			}
			if !tc.ok {
				a, _ := r.Advice()
				if a.Title != tc.title {
					t.Fatalf("advice %q, want %q (tls: %v)", a.Title, tc.title, r.Step(StepTLS).Err)
				}
			}
		})
	}
}

func TestCanceledCheckFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := goodNet()
	n.ports[443] = context.Canceled
	c := &Checker{Links: goodLinks(), Net: n, Ifaces: twoNICs, Target: target}
	if r := c.Run(ctx); r.OK() {
		t.Fatal("a canceled check passed")
	}
}

func TestTLSTime(t *testing.T) {
	set := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var none time.Time
	if got := TLSTime(set, none, time.Hour, true); !got.Equal(set) {
		t.Errorf("a set clock was moved to %v", got)
	}
	if got := TLSTime(set, set.Add(-time.Hour), time.Hour, true); !got.Equal(set) {
		t.Errorf("a set clock above its floor was moved to %v", got)
	}
	unset := time.Unix(5, 0)
	if got := TLSTime(unset, none, set.Sub(unset), true); !got.Equal(set) {
		t.Errorf("unset clock: %v, want the cloud's time", got)
	}
	if got := TLSTime(unset, none, 0, false); !got.Equal(unset) {
		t.Errorf("unknown offset moved the clock to %v", got)
	}
	// A stale clock below the floor: the cloud's time when known, else
	// the floor; the cloud's time is raised to the floor too.
	stale, floor := set.Add(-200*24*time.Hour), set.Add(-30*24*time.Hour)
	if got := TLSTime(stale, floor, set.Sub(stale), true); !got.Equal(set) {
		t.Errorf("stale clock below the floor: %v, want the cloud's time %v", got, set)
	}
	if got := TLSTime(stale, floor, 0, false); !got.Equal(floor) {
		t.Errorf("stale clock, no cloud time: %v, want the floor %v", got, floor)
	}
	if got := TLSTime(stale, floor, floor.Sub(stale)-time.Hour, true); !got.Equal(floor) {
		t.Errorf("cloud time below the floor: %v, want the floor %v", got, floor)
	}
}

func TestParseDate(t *testing.T) {
	if _, err := ParseDate(""); err == nil {
		t.Error("empty date accepted")
	}
	if _, err := ParseDate("Thu, 01 Jan 1970 00:00:00 GMT"); err == nil {
		t.Error("1970 accepted as the cloud's time")
	}
	got, err := ParseDate("Sun, 22 Nov 2026 09:41:00 GMT")
	if err != nil || got.Year() != 2026 {
		t.Errorf("ParseDate = %v %v", got, err)
	}
}

func TestPortsValidate(t *testing.T) {
	if err := DefaultPorts.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Ports{80, 443, 0, 59778}).Validate(); err == nil || !strings.Contains(err.Error(), "mqtt") {
		t.Fatalf("port 0 accepted: %v", err)
	}
}

func TestParsePorts(t *testing.T) {
	p, err := ParsePorts("18080, 18443,18883,18884")
	if err != nil || p != (Ports{18080, 18443, 18883, 18884}) || p.String() != "18080,18443,18883,18884" {
		t.Fatalf("%+v %v", p, err)
	}
	for _, bad := range []string{"", "80,443", "80,443,x,1", "80,443,59777,70000"} {
		if _, err := ParsePorts(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParsePorts(f *testing.F) {
	f.Add("80,443,59777,59778")
	f.Add(",,,")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePorts(s)
		if err == nil && p.Validate() != nil {
			t.Fatalf("accepted invalid %+v", p)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	f.Add("Sun, 22 Nov 2026 09:41:00 GMT")
	f.Add("Thu, 01 Jan 1970 00:00:00 GMT")
	f.Add("Sunday, 22-Nov-26 09:41:00 GMT")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err == nil && !clock.IsSet(d) {
			t.Fatalf("accepted %q as %v", s, d)
		}
	})
}
