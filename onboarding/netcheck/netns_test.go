package netcheck_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/internal/await"
	"timeclock/internal/testenv"
	"timeclock/internal/testpki"
	"timeclock/onboarding"
	"timeclock/onboarding/netcheck"
)

// The namespace tests run the real SysLinks and SysNet inside network
// namespaces the test makes: a client namespace with interfaces named eth0
// (LAN) and wlan0 (WiFi), each a veth whose other end is in a server
// namespace that holds the cloud's address and listens on the four ports
// and on DNS. The test binary re-executes itself under "ip netns exec" (which
// also mounts the namespace's own /sys) to run a server or a check there.

const helperEnv = "TIMECLOCK_NETNS_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "serve":
		serveCloud()
		return
	case "check":
		runCheck()
		return
	}
	os.Exit(m.Run())
}

const (
	cloudAddr = "10.77.9.1"
	cloudName = "cloud.test"
)

var ports = netcheck.DefaultPorts

// netEnv is the two namespaces and the files the helpers need.
type netEnv struct {
	t        *testing.T
	client   string
	server   string
	dir      string
	exe      string
	ca       *testpki.CA
	caFile   string
	serverUp *exec.Cmd
}

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newNetEnv(t *testing.T) *netEnv {
	t.Helper()
	if os.Getenv("TIMECLOCK_QEMU") != "" {
		t.Skip("network namespaces are tested on the build host, not under qemu")
	}
	testenv.Root(t, "creates network namespaces and veth interfaces")
	testenv.Tool(t, "ip")
	testenv.Tool(t, "nft")
	var r [3]byte
	rand.Read(r[:])
	tag := hex.EncodeToString(r[:])
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e := &netEnv{t: t, client: "tcc-" + tag, server: "tcs-" + tag, dir: t.TempDir(), exe: exe, ca: testpki.NewCA(t, "netns cloud CA")}
	// Cleanup runs even when a later step fails the test.
	t.Cleanup(func() {
		for _, ns := range []string{e.client, e.server} {
			exec.Command("ip", "netns", "del", ns).Run()
		}
	})
	ip(t, "netns", "add", e.client)
	ip(t, "netns", "add", e.server)
	ip(t, "link", "add", "eth0", "netns", e.client, "type", "veth", "peer", "name", "s-eth", "netns", e.server)
	ip(t, "link", "add", "wlan0", "netns", e.client, "type", "veth", "peer", "name", "s-wlan", "netns", e.server)
	for _, c := range [][]string{
		{"-n", e.server, "link", "set", "lo", "up"},
		{"-n", e.server, "addr", "add", cloudAddr + "/32", "dev", "lo"},
		{"-n", e.server, "addr", "add", "10.77.1.1/24", "dev", "s-eth"},
		{"-n", e.server, "addr", "add", "10.77.2.1/24", "dev", "s-wlan"},
		{"-n", e.server, "link", "set", "s-eth", "up"},
		{"-n", e.server, "link", "set", "s-wlan", "up"},
		{"-n", e.client, "link", "set", "lo", "up"},
		{"-n", e.client, "addr", "add", "10.77.1.2/24", "dev", "eth0"},
		{"-n", e.client, "addr", "add", "10.77.2.2/24", "dev", "wlan0"},
		{"-n", e.client, "link", "set", "eth0", "up"},
		{"-n", e.client, "link", "set", "wlan0", "up"},
		{"-n", e.client, "route", "add", "default", "via", "10.77.1.1", "dev", "eth0", "metric", "100"},
		{"-n", e.client, "route", "add", "default", "via", "10.77.2.1", "dev", "wlan0", "metric", "600"},
	} {
		ip(t, c...)
	}
	e.waitOper(t, "eth0", "up")
	e.waitOper(t, "wlan0", "up")
	e.caFile = filepath.Join(e.dir, "ca.pem")
	cert, key := e.ca.ServerPEM(t, cloudName, cloudAddr)
	for name, b := range map[string][]byte{"ca.pem": e.ca.PEM(), "cert.pem": cert, "key.pem": key} {
		if err := os.WriteFile(filepath.Join(e.dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.serve()
	return e
}

// waitOper waits for the kernel's link watch to settle an interface's
// operstate in the client namespace.
func (e *netEnv) waitOper(t *testing.T, iface, want string) {
	t.Helper()
	await.True(t, 10*time.Second, func() bool {
		out, _ := exec.Command("ip", "netns", "exec", e.client, "cat", "/sys/class/net/"+iface+"/operstate").Output()
		return strings.TrimSpace(string(out)) == want
	}, "%s never became %s", iface, want)
}

// serve starts the cloud in the server namespace and waits until it says
// it listens.
func (e *netEnv) serve() {
	e.t.Helper()
	cmd := exec.Command("ip", "netns", "exec", e.server, e.exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=serve", "TC_DIR="+e.dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		e.t.Fatalf("cloud helper: %q %v", line, err)
	}
}

// checkResult is what the check helper prints.
type checkResult struct {
	Iface     string            `json:"iface"`
	LANAdvice bool              `json:"lan_advice"`
	OK        bool              `json:"ok"`
	Steps     map[string]string `json:"steps"` // step -> outcome: detail
	Advice    netcheck.Advice   `json:"advice"`
	Screen    []string          `json:"screen"` // the 20x4 screen after the check
	Screen16  []string          `json:"screen16"`
}

// check runs the network check in the client namespace.
func (e *netEnv) check(t *testing.T, host, resolver string) checkResult {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", e.client, e.exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=check", "TC_DIR="+e.dir, "TC_HOST="+host, "TC_RESOLVER="+resolver)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("check helper: %v\n%s", err, stderr)
	}
	var r checkResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("check helper output %q: %v", out, err)
	}
	return r
}

func (e *netEnv) nft(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", e.server, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
}

func screenHas(lines []string, text string) bool {
	return strings.Contains(strings.Join(lines, "\n"), text)
}

func TestNetworkCheckInNamespaces(t *testing.T) {
	e := newNetEnv(t)
	dns := cloudAddr + ":53"

	t.Run("LAN preferred", func(t *testing.T) {
		r := e.check(t, cloudName, dns)
		if !r.OK || r.Iface != "eth0" || r.LANAdvice {
			t.Fatalf("check: %+v", r)
		}
		for _, s := range netcheck.Steps {
			if !strings.HasPrefix(r.Steps[string(s)], "ok") {
				t.Errorf("step %s: %s", s, r.Steps[string(s)])
			}
		}
		if !strings.Contains(r.Steps["route"], "via 10.77.1.1") || !strings.Contains(r.Steps["dns"], cloudAddr) {
			t.Errorf("route %q dns %q", r.Steps["route"], r.Steps["dns"])
		}
		if !screenHas(r.Screen, "Company ID") {
			t.Errorf("screen after a good check: %q", r.Screen)
		}
	})

	t.Run("DNS failure", func(t *testing.T) {
		r := e.check(t, cloudName, cloudAddr+":5353") // no DNS server there
		if r.OK || !strings.HasPrefix(r.Steps["dns"], "failed") || r.Advice.Title != "DNS failed" {
			t.Fatalf("check: %+v", r)
		}
		if !screenHas(r.Screen, "DNS failed") || !screenHas(r.Screen, "No DNS answer for") {
			t.Errorf("screen %q", r.Screen)
		}
		r = e.check(t, "nosuch.test", dns)
		if r.OK || r.Advice.Title != "Cloud name unknown" || !screenHas(r.Screen, "Cloud name unknown") {
			t.Fatalf("unknown name: %+v", r)
		}
	})

	t.Run("port 59777 dropped", func(t *testing.T) {
		e.nft(t, "table inet tcblock {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 59777 drop\n }\n}\n")
		defer e.nft(t, "delete table inet tcblock\n")
		r := e.check(t, cloudName, dns)
		if !r.OK || !strings.HasPrefix(r.Steps["tcp"], "warning") || !strings.Contains(r.Steps["tcp"], "59777 no answer") {
			t.Fatalf("check: %+v", r)
		}
		if !screenHas(r.Screen, "Port 59777 blocked") || !screenHas(r.Screen16, "Port 59777") {
			t.Errorf("screens %q %q", r.Screen, r.Screen16)
		}
		if !strings.Contains(strings.Join(r.Advice.Text, " "), "Ask IT to allow ports 80, 443, 59777, 59778.") || !r.Advice.CanContinue {
			t.Errorf("advice %+v", r.Advice)
		}
	})

	t.Run("LAN link down falls back to WiFi", func(t *testing.T) {
		// The switch port goes dark; the DHCP client drops the LAN's route.
		ip(t, "-n", e.server, "link", "set", "s-eth", "down")
		ip(t, "-n", e.client, "route", "del", "default", "via", "10.77.1.1", "dev", "eth0")
		e.waitOper(t, "eth0", "down")
		r := e.check(t, cloudName, dns)
		if !r.OK || r.Iface != "wlan0" || !r.LANAdvice || !strings.Contains(r.Steps["link"], "eth0: no link") {
			t.Fatalf("check: %+v", r)
		}
		if !screenHas(r.Screen, "LAN suggested") || !screenHas(r.Screen, "Enter=WiFi") {
			t.Errorf("screen %q", r.Screen)
		}
		// And with WiFi down too, the screen asks for the cable.
		ip(t, "-n", e.server, "link", "set", "s-wlan", "down")
		e.waitOper(t, "wlan0", "down")
		r = e.check(t, cloudName, dns)
		if r.OK || r.Advice.Title != "No network cable" || !screenHas(r.Screen, "No network cable") {
			t.Fatalf("no link at all: %+v", r)
		}
	})
}

// runCheck is the helper in the client namespace: the real check, printed
// with the screen onboarding shows for it.
func runCheck() {
	dir := os.Getenv("TC_DIR")
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	sysNet := netcheck.SysNet{}
	if res := os.Getenv("TC_RESOLVER"); res != "" {
		sysNet.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, res)
		}}
	}
	c := &netcheck.Checker{
		Links: netcheck.SysLinks{}, Net: sysNet,
		Ifaces:   []netcheck.Iface{{Name: "eth0"}, {Name: "wlan0", WiFi: true}},
		Target:   netcheck.Target{Host: os.Getenv("TC_HOST"), Ports: ports, CA: pool},
		Timeouts: netcheck.Timeouts{DNS: 2 * time.Second, Dial: time.Second, HTTP: 2 * time.Second, TLS: 3 * time.Second},
	}
	rep := c.Run(context.Background())
	out := checkResult{Iface: rep.Iface, LANAdvice: rep.LANAdvice, OK: rep.OK(), Steps: map[string]string{}}
	for _, s := range rep.Steps {
		out.Steps[string(s.Step)] = string(s.Outcome) + ": " + s.Detail
	}
	out.Advice, _ = rep.Advice()
	now := time.Now()
	for _, mc := range []onboarding.Machine{{Cols: 20, Rows: 4, Ports: ports}, {Cols: 16, Rows: 2, Ports: ports}} {
		m, _ := mc.Next(onboarding.Model{State: onboarding.StateNetCheck, Seq: 1}, onboarding.NetChecked{Seq: 1, Report: rep}, now)
		if mc.Cols == 20 {
			out.Screen = mc.Screen(m, now)
		} else {
			out.Screen16 = mc.Screen(m, now)
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

// serveCloud is the helper in the server namespace: the cloud's four ports
// and a DNS server that knows cloud.test, until stdin closes.
func serveCloud() {
	dir := os.Getenv("TC_DIR")
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		log.Fatal(err)
	}
	listen := func(port int) net.Listener {
		ln, err := net.Listen("tcp", net.JoinHostPort(cloudAddr, fmt.Sprint(port)))
		if err != nil {
			log.Fatal(err)
		}
		return ln
	}
	quiet := log.New(io.Discard, "", 0)
	timeH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	go (&http.Server{Handler: timeH, ErrorLog: quiet}).Serve(listen(ports.HTTP))
	go (&http.Server{Handler: timeH, ErrorLog: quiet}).Serve(tls.NewListener(listen(ports.HTTPS), &tls.Config{Certificates: []tls.Certificate{cert}}))
	for _, p := range []int{ports.MQTT, ports.MQTTWS} {
		ln := listen(p)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	pc, err := net.ListenPacket("udp", cloudAddr+":53")
	if err != nil {
		log.Fatal(err)
	}
	go serveDNS(pc)
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}

// serveDNS answers A queries for cloud.test with the cloud's address, AAAA
// with no answer, and everything else with NXDOMAIN: just enough DNS for
// the check's resolver.
func serveDNS(pc net.PacketConn) {
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if reply := dnsReply(buf[:n]); reply != nil {
			pc.WriteTo(reply, from)
		}
	}
}

func dnsReply(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	// The question: labels up to the zero byte, then type and class.
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qend := i + 5
	qtype := binary.BigEndian.Uint16(q[i+1:])
	name := strings.ToLower(strings.Join(labels, "."))
	resp := append([]byte{}, q[:qend]...)
	resp[2] = 0x80 | q[2]&0x01 // QR, keep RD
	resp[3] = 0x80             // RA, NOERROR
	binary.BigEndian.PutUint16(resp[6:], 0)
	binary.BigEndian.PutUint16(resp[8:], 0)
	binary.BigEndian.PutUint16(resp[10:], 0)
	switch {
	case name != cloudName:
		resp[3] |= 3 // NXDOMAIN
	case qtype == 1:
		binary.BigEndian.PutUint16(resp[6:], 1)
		resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
		resp = append(resp, net.ParseIP(cloudAddr).To4()...)
	}
	return resp
}
