package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"mime"
	"mime/quotedprintable"
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

	"timeclock/internal/await"
	"timeclock/internal/daemontest"
	"timeclock/onboarding/netcheck"
)

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

const wait = 20 * time.Second

var (
	companyRE  = regexp.MustCompile(`(?m)^demo company ID: (\d+)$`)
	tokenRE    = regexp.MustCompile(`(?m)^admin token: (\S+)$`)
	listenRE   = regexp.MustCompile(`(?m)^listening (\S+) 127\.0\.0\.1:(\d+)$`)
	codeRE     = regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`)
	passcodeRE = regexp.MustCompile(`(?m)passcode[^\n]*:\s*\n\s*\n?\s+(\S+)\s*$`)
)

// cloud is a running timeclock-cloud --dev.
type cloud struct {
	p       *daemontest.Proc
	dir     string
	company string
	token   string
	ports   netcheck.Ports
	seen    map[string]bool // outbox files already read
}

// startCloud runs the dev cloud on free loopback ports, or on the ports
// given (a restart).
func startCloud(t *testing.T, dir string, ports *netcheck.Ports) *cloud {
	t.Helper()
	bin := daemontest.Build(t, "timeclock/cmd/timeclock-cloud")
	addr := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
	h, s, m, w := "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	if ports != nil {
		h, s, m, w = addr(ports.HTTP), addr(ports.HTTPS), addr(ports.MQTT), addr(ports.MQTTWS)
	}
	c := &cloud{dir: dir, seen: map[string]bool{}}
	c.p = daemontest.Start(t, bin, "--dev", "--data", dir, "--log-file", filepath.Join(dir, "cloud.log"),
		"--http", h, "--https", s, "--mqtt", m, "--mqtt-ws", w)
	c.p.WaitOutput(t, "\nready\n", 60*time.Second)
	out := c.p.Output()
	c.company = companyRE.FindStringSubmatch(out)[1]
	c.token = tokenRE.FindStringSubmatch(out)[1]
	for _, l := range listenRE.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(l[2])
		switch l[1] {
		case "http":
			c.ports.HTTP = n
		case "https":
			c.ports.HTTPS = n
		case "mqtt":
			c.ports.MQTT = n
		case "mqtt-ws":
			c.ports.MQTTWS = n
		}
	}
	if c.ports.Validate() != nil {
		t.Fatalf("cloud ports %+v from:\n%s", c.ports, out)
	}
	return c
}

func (c *cloud) url() string    { return "https://localhost:" + strconv.Itoa(c.ports.HTTPS) }
func (c *cloud) caFile() string { return filepath.Join(c.dir, "ca.pem") }

func (c *cloud) stop(t *testing.T) {
	t.Helper()
	c.p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := c.p.Wait(t, 30*time.Second); err != nil {
		t.Fatalf("cloud exit: %v", err)
	}
}

// advance moves the dev cloud's clock forward (its admin API, --dev only).
func (c *cloud) advance(t *testing.T, d time.Duration) {
	t.Helper()
	body, _ := json.Marshal(map[string]int{"advance_seconds": int(d / time.Second)})
	req, _ := http.NewRequest("POST", c.url()+"/api/v1/dev/clock", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := cloudClient(t, c).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("dev clock: %s %s", resp.Status, b)
	}
}

// mails returns the outbox mails not read before whose subject has the
// text, oldest first, decoded.
func (c *cloud) mails(t *testing.T, subject string) []string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(c.dir, "outbox", "*.eml"))
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

// newCode waits for the next code mail and returns its code.
func (c *cloud) newCode(t *testing.T) string {
	t.Helper()
	body := await.Value(t, wait, func() (string, bool) {
		m := c.mails(t, "Authentication code")
		if len(m) == 0 {
			return "", false
		}
		return m[len(m)-1], true
	}, "no code mail in %s/outbox", c.dir)
	m := codeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no code in the mail:\n%s", body)
	}
	return m[1]
}

// clock is a running timeclockd on the sim board.
type clock struct {
	p   *daemontest.Proc
	sim *daemontest.Sim
	dir string
}

func startClock(t *testing.T, dir string, c *cloud, caFile string) *clock {
	t.Helper()
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	sock := filepath.Join(dir, "sim.sock")
	p := daemontest.Start(t, bin, "--board", "sim", "--state-dir", dir, "--sim-socket", sock, "--log-level", "debug",
		"--cloud", c.url(), "--cloud-ca", caFile, "--cloud-ports", c.ports.String())
	return &clock{p: p, sim: daemontest.DialSim(t, sock, wait), dir: dir}
}

func (k *clock) wait(t *testing.T, text string) string {
	t.Helper()
	return k.sim.WaitScreen(text, wait)
}

func (k *clock) press(t *testing.T, keys ...string) {
	t.Helper()
	for _, key := range keys {
		k.sim.OK("key %s", key)
	}
}

func (k *clock) typ(t *testing.T, digits string) {
	t.Helper()
	for _, d := range digits {
		k.sim.OK("key %c", d)
	}
}

// toCode walks from the first screen to the code entry.
func (k *clock) toCode(t *testing.T, c *cloud) {
	t.Helper()
	k.wait(t, "Company ID")
	k.typ(t, c.company)
	k.press(t, "enter")
	k.wait(t, "Demo Company")
	k.press(t, "enter")
	k.wait(t, "Expires in")
}

// activate types a code and confirms the timezone, ending at the idle
// screen; it returns the status.
func (k *clock) activate(t *testing.T, code string) map[string]any {
	t.Helper()
	k.typ(t, code)
	k.press(t, "enter")
	k.wait(t, "America/Chicago")
	k.press(t, "enter")
	k.wait(t, "Badge or PIN")
	return k.sim.OK("status")
}

// wrong is a code that is not c.
func wrong(c string) string {
	d := (c[0]-'0'+1)%10 + '0'
	return string(d) + c[1:]
}

// cloudClient trusts the dev cloud's CA, as a clock given --cloud-ca does.
func cloudClient(t *testing.T, c *cloud) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(c.caFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	cl := &http.Client{Timeout: wait, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	t.Cleanup(cl.CloseIdleConnections)
	return cl
}
