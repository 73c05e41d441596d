// Package e2e runs the real programs for end-to-end tests over loopback:
// timeclock-cloud in --dev mode (with its embedded broker, or a real
// Mosquitto the test starts) and timeclockd on the simulated board, driven
// through its control socket. It onboards clocks as an installer would,
// reading the code from the cloud's outbox, and calls the admin API.
package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"timeclock/cloud/mosquitto"
	"timeclock/cloud/mosquitto/mosquittotest"
	"timeclock/cloud/pki"
	"timeclock/internal/await"
	"timeclock/internal/daemontest"
	"timeclock/onboarding/netcheck"
)

// Wait bounds each step of an end-to-end test.
const Wait = 30 * time.Second

var (
	companyRE = regexp.MustCompile(`(?m)^demo company ID: (\d+)$`)
	tokenRE   = regexp.MustCompile(`(?m)^admin token: (\S+)$`)
	listenRE  = regexp.MustCompile(`(?m)^listening (\S+) 127\.0\.0\.1:(\d+)$`)
	codeRE    = regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`)
)

// Cloud is a running timeclock-cloud --dev.
type Cloud struct {
	P       *daemontest.Proc
	Dir     string
	Company string
	Token   string
	Ports   netcheck.Ports
	// Mosquitto is the external broker, when the cloud uses one.
	Mosquitto *mosquittotest.Broker
	seen      map[string]bool // outbox files already read
	client    *http.Client
	bin       string
	args      []string // to start it again
}

// CloudOptions say how to start the cloud.
type CloudOptions struct {
	// Dir is the data directory (a new temporary one when empty).
	Dir string
	// Ports are fixed ports for a restart (zero: free ones).
	Ports *netcheck.Ports
	// Mosquitto makes the cloud use a real Mosquitto (--mqtt-broker) that
	// the test starts with the cloud's own CA and the generated config.
	Mosquitto bool
	// Args are extra flags.
	Args []string
}

// StartCloud runs the dev cloud on loopback and waits until it is ready.
func StartCloud(t testing.TB, o CloudOptions) *Cloud {
	t.Helper()
	bin := daemontest.Build(t, "timeclock/cmd/timeclock-cloud")
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	addr := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
	h, s, m, w := "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	if o.Ports != nil {
		h, s, m, w = addr(o.Ports.HTTP), addr(o.Ports.HTTPS), addr(o.Ports.MQTT), addr(o.Ports.MQTTWS)
	}
	c := &Cloud{Dir: o.Dir, seen: map[string]bool{}}
	args := []string{"--dev", "--data", o.Dir, "--log-file", filepath.Join(o.Dir, "cloud.log"), "--log-level", "debug",
		"--http", h, "--https", s}
	if o.Mosquitto {
		// The cloud's CA first: Mosquitto trusts it, and the cloud finds it
		// in its data directory.
		ca, _, err := pki.LoadOrCreate(o.Dir, "timeclock dev CA (not for production)", true, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		c.Mosquitto = mosquittotest.Start(t, ca)
		if err := mosquitto.WriteClientCert(ca, o.Dir, time.Now()); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--mqtt", c.Mosquitto.TLSAddr, "--mqtt-ws", c.Mosquitto.WSAddr,
			"--mqtt-broker", "mqtts://localhost:"+port(c.Mosquitto.TLSAddr),
			"--mosquitto-dir", c.Mosquitto.Dir, "--mosquitto-pid", c.Mosquitto.PIDFile())
	} else {
		args = append(args, "--mqtt", m, "--mqtt-ws", w)
	}
	c.bin, c.args = bin, append(args, o.Args...)
	c.start(t)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(o.Dir, "cloud.log"))
			t.Logf("cloud log:\n%s", lastLines(string(b), 150))
			if c.Mosquitto != nil {
				t.Logf("mosquitto log:\n%s", lastLines(c.Mosquitto.Log(), 60))
			}
		}
	})
	if err := c.Ports.Validate(); err != nil {
		t.Fatalf("cloud ports %+v (%v) from:\n%s", c.Ports, err, c.P.Output())
	}
	return c
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func lastLines(s string, n int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

func (c *Cloud) logHas(text string) bool {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "cloud.log"))
	return bytes.Contains(b, []byte(text))
}

// Log is the cloud's log so far.
func (c *Cloud) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "cloud.log"))
	return string(b)
}

// URL is the HTTPS API's base URL.
func (c *Cloud) URL() string { return "https://localhost:" + strconv.Itoa(c.Ports.HTTPS) }

// CAFile is the dev CA the clocks trust.
func (c *Cloud) CAFile() string { return filepath.Join(c.Dir, "ca.pem") }

// Stop ends the cloud with SIGTERM and waits.
func (c *Cloud) Stop(t testing.TB) {
	t.Helper()
	c.P.Cmd.Process.Signal(syscall.SIGTERM)
	if err := c.P.Wait(t, Wait); err != nil {
		t.Fatalf("cloud exit: %v", err)
	}
}

func (c *Cloud) start(t testing.TB) {
	t.Helper()
	c.P = daemontest.Start(t, c.bin, c.args...)
	c.P.WaitOutput(t, "\nready\n", 60*time.Second)
	out := c.P.Output()
	c.Company = companyRE.FindStringSubmatch(out)[1]
	c.Token = tokenRE.FindStringSubmatch(out)[1]
	for _, l := range listenRE.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(l[2])
		switch l[1] {
		case "http":
			c.Ports.HTTP = n
		case "https":
			c.Ports.HTTPS = n
		case "mqtt":
			c.Ports.MQTT = n
		case "mqtt-ws":
			c.Ports.MQTTWS = n
		}
	}
	if c.Mosquitto != nil {
		c.Ports.MQTT, _ = strconv.Atoi(port(c.Mosquitto.TLSAddr))
		c.Ports.MQTTWS, _ = strconv.Atoi(port(c.Mosquitto.WSAddr))
		await.True(t, Wait, func() bool { return c.logHas("mqtt broker disconnected -> connected") },
			"the cloud never connected to mosquitto")
	}
}

// Restart stops the cloud and starts it again on the same data and ports
// (the embedded broker with it). A port set to 0 in Ports first is a new
// free one.
func (c *Cloud) Restart(t testing.TB) {
	t.Helper()
	c.Stop(t)
	if c.Mosquitto == nil {
		addr := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
		for i, a := range c.args {
			switch a {
			case "--http":
				c.args[i+1] = addr(c.Ports.HTTP)
			case "--https":
				c.args[i+1] = addr(c.Ports.HTTPS)
			case "--mqtt":
				c.args[i+1] = addr(c.Ports.MQTT)
			case "--mqtt-ws":
				c.args[i+1] = addr(c.Ports.MQTTWS)
			}
		}
	}
	// The ports were just let go of; another process may take one in
	// between, which fails the start (rare, and reported).
	c.start(t)
}

// RestartBroker restarts the MQTT broker: Mosquitto when the cloud uses
// it (killed: under load it has been seen to sit on SIGTERM for 15 s),
// else the cloud itself (its broker is embedded).
func (c *Cloud) RestartBroker(t testing.TB) {
	t.Helper()
	if c.Mosquitto != nil {
		c.Mosquitto.Kill(t)
		c.Mosquitto.StartAgain(t)
		return
	}
	c.Restart(t)
}

// Client is an HTTPS client trusting the dev CA.
func (c *Cloud) Client(t testing.TB) *http.Client {
	t.Helper()
	if c.client != nil {
		return c.client
	}
	pem, err := os.ReadFile(c.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	c.client = &http.Client{Timeout: Wait, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	t.Cleanup(c.client.CloseIdleConnections)
	return c.client
}

// API calls the admin API with the dev admin token; body (if not nil) is
// sent as JSON and the answer decoded into out (if not nil). It returns
// the HTTP status.
func (c *Cloud) API(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Client(t).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		t.Logf("%s %s: %s %s", method, path, resp.Status, b)
	}
	return resp.StatusCode
}

// Punch is a punch as GET /api/v1/punches lists it (the fields tests use).
type Punch struct {
	ID       string    `json:"id"`
	Seq      uint64    `json:"seq"`
	Employee string    `json:"employee"`
	Badge    string    `json:"badge"`
	Kind     string    `json:"kind"`
	Time     time.Time `json:"time"`
	Final    bool      `json:"final"`
	// The time's quality and correction (docs/protocol.md).
	TimeSource   string    `json:"time_source"`
	ClockSet     bool      `json:"clock_set"`
	Corrected    bool      `json:"corrected"`
	OriginalTime time.Time `json:"original_time"`
	CorrectedAt  time.Time `json:"corrected_at"`
	// A punch by fingerprint.
	Method     string `json:"method"`
	MatchScore int    `json:"match_score"`
}

// Punches lists every punch the cloud stored from a device, page by page.
func (c *Cloud) Punches(t testing.TB, device string) []Punch {
	t.Helper()
	var all []Punch
	after := ""
	for {
		var page struct {
			Punches []Punch `json:"punches"`
			Next    string  `json:"next"`
		}
		path := "/api/v1/punches?limit=10000&device=" + device
		if after != "" {
			path += "&after=" + after
		}
		if st := c.API(t, "GET", path, nil, &page); st != http.StatusOK {
			t.Fatalf("GET %s: %d", path, st)
		}
		all = append(all, page.Punches...)
		if page.Next == "" {
			return all
		}
		after = page.Next
	}
}

// Device is a device row of the admin API (the fields tests use).
type Device struct {
	ID               string `json:"id"`
	Nickname         string `json:"nickname"`
	Status           string `json:"status"`
	Online           bool   `json:"online"`
	Pending          int    `json:"pending"`
	LastTransmission string `json:"last_transmission"`
	FinalSeq         uint64 `json:"final_seq"`
	RosterVersion    uint64 `json:"roster_version"`
	Type             string `json:"type"`
	Version          string `json:"version"`
	Punches          uint64 `json:"punches"` // stored from this clock
}

// Device reads one device's row.
func (c *Cloud) Device(t testing.TB, id string) Device {
	t.Helper()
	var d Device
	if st := c.API(t, "GET", "/api/v1/devices/"+id, nil, &d); st != http.StatusOK {
		t.Fatalf("GET device %s: %d", id, st)
	}
	return d
}

// Mails returns the outbox mails not read before whose subject has the
// text, oldest first, decoded.
func (c *Cloud) Mails(subject string) []string {
	names, _ := filepath.Glob(filepath.Join(c.Dir, "outbox", "*.eml"))
	sort.Strings(names)
	var out []string
	for _, n := range names {
		if c.seen[n] {
			continue
		}
		raw, err := os.ReadFile(n)
		if err != nil {
			continue
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			continue // still being written
		}
		subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if !strings.Contains(subj, subject) {
			continue
		}
		var body io.Reader = msg.Body
		if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			continue
		}
		c.seen[n] = true
		out = append(out, string(b))
	}
	return out
}

// NewCode waits for the next code mail and returns its code.
func (c *Cloud) NewCode(t testing.TB) string {
	t.Helper()
	body := await.Value(t, Wait, func() (string, bool) {
		m := c.Mails("Authentication code")
		if len(m) == 0 {
			return "", false
		}
		return m[len(m)-1], true
	}, "no code mail in %s/outbox", c.Dir)
	m := codeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no code in the mail:\n%s", body)
	}
	return m[1]
}

// Advance moves the dev cloud's clock forward (its admin API, --dev only).
func (c *Cloud) Advance(t testing.TB, d time.Duration) {
	t.Helper()
	if st := c.API(t, "POST", "/api/v1/dev/clock", map[string]int{"advance_seconds": int(d / time.Second)}, new(map[string]any)); st != http.StatusOK {
		t.Fatalf("dev clock: %d", st)
	}
}

// String names the cloud for messages.
func (c *Cloud) String() string { return fmt.Sprintf("cloud(%s)", c.URL()) }
