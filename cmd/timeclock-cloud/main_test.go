package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"timeclock/cloud/notify/smtptest"
	"timeclock/internal/daemontest"
	"timeclock/wire"
)

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

const pkg = "timeclock/cmd/timeclock-cloud"

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// proc is a running timeclock-cloud and what it printed about itself.
type proc struct {
	t       *testing.T
	p       *daemontest.Proc
	dir     string
	logFile string
	company string
	token   string
	https   string // base URL, https://localhost:PORT
	http    string // base URL of the plain port
	client  *http.Client
}

var (
	companyRE = regexp.MustCompile(`(?m)^demo company ID: (\d+)$`)
	tokenRE   = regexp.MustCompile(`(?m)^admin token: (\S+)$`)
	listenRE  = regexp.MustCompile(`(?m)^listening (\S+) 127\.0\.0\.1:(\d+)$`)
)

// startDev runs the binary in --dev mode on free loopback ports.
func startDev(t *testing.T, dir string, extra ...string) *proc {
	t.Helper()
	bin := daemontest.Build(t, pkg)
	c := &proc{t: t, dir: dir, logFile: filepath.Join(dir, "cloud.log")}
	args := append([]string{"--dev", "--data", dir, "--log-file", c.logFile, "--log-level", "debug",
		"--http", "127.0.0.1:0", "--https", "127.0.0.1:0", "--mqtt", "127.0.0.1:0", "--mqtt-ws", "127.0.0.1:0"}, extra...)
	c.p = daemontest.Start(t, bin, args...)
	c.p.WaitOutput(t, "\nready\n", 60*time.Second)
	out := c.p.Output()
	c.company = companyRE.FindStringSubmatch(out)[1]
	c.token = tokenRE.FindStringSubmatch(out)[1]
	for _, m := range listenRE.FindAllStringSubmatch(out, -1) {
		switch m[1] {
		case "https":
			c.https = "https://localhost:" + m[2]
		case "http":
			c.http = "http://127.0.0.1:" + m[2]
		}
	}
	// Trust exactly the CA the cloud wrote, as a clock given --cloud-ca does.
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	c.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	t.Cleanup(c.client.CloseIdleConnections)
	return c
}

func (c *proc) stop() {
	c.t.Helper()
	c.p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := c.p.Wait(c.t, 30*time.Second); err != nil {
		c.t.Fatalf("cloud exited with %v after SIGTERM:\n%s", err, c.p.Output())
	}
}

func (c *proc) do(method, path string, body any, out any) *wire.Error {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.https+path, r)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		var we wire.Error
		if err := json.Unmarshal(b, &we); err != nil {
			c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return &we
	}
	if err := json.Unmarshal(b, out); err != nil {
		c.t.Fatalf("%s %s: %s: %v", method, path, b, err)
	}
	return nil
}

func (c *proc) log() string {
	b, _ := os.ReadFile(c.logFile)
	return string(b)
}

func newCSR(t *testing.T) string {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

var mailCodeRE = regexp.MustCompile(`(?m)^    (\d{6})\r?$`)

func TestDevModeOnboardsAndRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	c := startDev(t, dir)
	out := c.p.Output()
	for _, w := range []string{"demo company ID: ", "admin token: ", "DEV MAIL"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))

	// Plain HTTP: 204 with the cloud's time in Date.
	resp, err := http.Get(c.http + wire.PathTime)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if resp.StatusCode != 204 || err != nil || time.Since(date).Abs() > time.Minute {
		t.Fatalf("time: %d Date %q", resp.StatusCode, resp.Header.Get("Date"))
	}

	// Onboard over HTTPS with the written CA.
	dev := wire.Device{Serial: "SIM-0001", Model: "sim", Firmware: "dev"}
	var co wire.CompanyResponse
	if we := c.do("POST", wire.PathCompany, wire.CompanyRequest{CompanyID: c.company, Device: dev}, &co); we != nil || co.Name != "Demo Company" {
		t.Fatalf("company: %v %+v", we, co)
	}
	var cr wire.CodeResponse
	if we := c.do("POST", wire.PathCode, wire.CodeRequest{CompanyID: c.company, Device: dev}, &cr); we != nil || cr.Recipients != 1 {
		t.Fatalf("code: %v %+v", we, cr)
	}
	emls, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml"))
	if len(emls) != 1 || !strings.Contains(emls[0], "admin@demo.example") {
		t.Fatalf("outbox: %v", emls)
	}
	eml, _ := os.ReadFile(emls[0])
	m := mailCodeRE.FindSubmatch(eml)
	if m == nil {
		t.Fatalf("no code in %s:\n%s", emls[0], eml)
	}
	code := string(m[1])
	c.p.WaitOutput(t, "DEV MAIL to \"Dana Admin\" <admin@demo.example>", 10*time.Second)
	if !strings.Contains(c.p.Output(), "    "+code+"\n") {
		t.Error("the dev mail print does not show the code")
	}
	var act wire.ActivateResponse
	if we := c.do("POST", wire.PathActivate, wire.ActivateRequest{SessionID: cr.SessionID, Code: code, CSR: newCSR(t), Device: dev}, &act); we != nil {
		t.Fatalf("activate: %v", we)
	}
	if act.CA != string(caPEM) || !strings.HasPrefix(act.MQTT.WebSocket, "wss://localhost:") || act.Timezone != "America/Chicago" {
		t.Errorf("activation %+v", act)
	}

	// The dev clock expires a second clock's code without waiting.
	dev2 := wire.Device{Serial: "SIM-0002", Model: "sim"}
	var cr2 wire.CodeResponse
	if we := c.do("POST", wire.PathCode, wire.CodeRequest{CompanyID: c.company, Device: dev2}, &cr2); we != nil {
		t.Fatal(we)
	}
	var moved struct{ Now time.Time }
	if we := c.do("POST", "/api/v1/dev/clock", map[string]int{"advance_seconds": 600}, &moved); we != nil {
		t.Fatal(we)
	}
	if we := c.do("POST", wire.PathActivate, wire.ActivateRequest{SessionID: cr2.SessionID, Code: "123456", CSR: newCSR(t), Device: dev2}, &act); we == nil || we.Code != wire.ErrCodeExpired {
		t.Fatalf("after the dev clock moved 10 min: %v", we)
	}

	var list struct {
		Approved []struct{ ID, Nickname, Type string } `json:"approved"`
	}
	if we := c.do("GET", "/api/v1/devices", nil, &list); we != nil || len(list.Approved) != 1 || list.Approved[0].ID != act.DeviceID {
		t.Fatalf("devices: %v %+v", we, list)
	}

	// Secrets: the structured log never has the code, the passcode or the token.
	log := c.log()
	if !strings.Contains(log, "-> activated") {
		t.Fatalf("log file is not the cloud's log:\n%s", log)
	}
	for name, s := range map[string]string{"code": code, "passcode": act.TechnicianPasscode, "admin token": c.token} {
		if strings.Contains(log, s) {
			t.Errorf("the %s is in the log", name)
		}
	}
	c.stop()

	// Restart: same company, token, CA and devices.
	c2 := startDev(t, dir)
	if c2.company != c.company || c2.token != c.token {
		t.Errorf("restart changed company %s->%s or token", c.company, c2.company)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ca.pem")); !bytes.Equal(b, caPEM) {
		t.Error("restart replaced the CA")
	}
	if we := c2.do("GET", "/api/v1/devices", nil, &list); we != nil || len(list.Approved) != 1 || list.Approved[0].ID != act.DeviceID {
		t.Fatalf("devices after restart: %v %+v", we, list)
	}
	c2.stop()
}

func TestDevModeMailsThroughSMTP(t *testing.T) {
	srv := smtptest.Start(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "smtp-ca.pem"), srv.CAPEM, 0o644)
	os.WriteFile(filepath.Join(dir, "smtp-pass"), []byte(srv.Pass+"\n"), 0o600)
	c := startDev(t, filepath.Join(dir, "data"), "--smtp-host", srv.Host, "--smtp-port", fmt.Sprint(srv.Port),
		"--smtp-user", srv.User, "--smtp-password-file", filepath.Join(dir, "smtp-pass"),
		"--smtp-ca", filepath.Join(dir, "smtp-ca.pem"), "--mail-from", "Clock Cloud <clocks@cloud.example>")
	var cr wire.CodeResponse
	dev := wire.Device{Serial: "SIM-0003", Model: "sim"}
	if we := c.do("POST", wire.PathCode, wire.CodeRequest{CompanyID: c.company, Device: dev}, &cr); we != nil {
		t.Fatal(we)
	}
	got := srv.WaitMails(t, 1, 10*time.Second)
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "admin@demo.example" || got[0].From != "clocks@cloud.example" || !got[0].TLS {
		t.Fatalf("smtp got %+v", got)
	}
	if !mailCodeRE.MatchString(got[0].Body()) {
		t.Errorf("no code in the SMTP mail:\n%s", got[0].Body())
	}
	c.stop()
	for _, g := range srv.Mails() {
		for _, r := range g.To {
			if r == "payroll@demo.example" {
				t.Fatal("the non-administrator got mail")
			}
		}
	}
	if strings.Contains(c.p.Output()+c.log(), srv.Pass) {
		t.Fatal("the SMTP password was printed or logged")
	}
}

// TestLogFileInNewDataDir: the first start with --log-file inside a --data
// directory that does not exist yet makes the directory (owner only) and
// logs there.
func TestLogFileInNewDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	c := startDev(t, dir)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %v, want 0700", fi.Mode().Perm())
	}
	if !strings.Contains(c.log(), "level=") {
		t.Errorf("nothing in the log file:\n%s", c.p.Output())
	}
	c.stop()
}

func TestVersionAndHelp(t *testing.T) {
	bin := daemontest.Build(t, pkg)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "timeclock-cloud ") {
		t.Fatalf("--version: %v %q", err, out)
	}
	out, err = exec.Command(bin, "-h").CombinedOutput()
	for _, f := range []string{"-dev", "-data", "-http", "-https", "-mqtt", "-mqtt-ws", "-public-host", "-smtp-host", "-smtp-tls", "-smtp-password-file", "18443"} {
		if !strings.Contains(string(out), f) {
			t.Errorf("-h lacks %s", f)
		}
	}
	if err != nil {
		t.Errorf("-h exited %v", err)
	}
}

func TestBadFlagsAndConfig(t *testing.T) {
	bin := daemontest.Build(t, pkg)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--no-such-flag"}, 2, "no-such-flag"},
		{[]string{"extra"}, 2, "unexpected argument"},
		{[]string{"--log-level", "loud"}, 2, "log-level"},
		{[]string{"--data", dir}, 1, "smtp-host"},
		{[]string{"--data", dir, "--demo-company", "123456", "--smtp-host", "mail.example"}, 1, "only with --dev"},
		{[]string{"--dev", "--data", dir, "--demo-company", "12ab"}, 1, "4 to 12 digits"},
		{[]string{"--dev", "--data", dir, "--https", "nonsense"}, 1, "https"},
		{[]string{"--dev", "--data", dir, "--smtp-host", "mail.example", "--smtp-tls", "maybe"}, 1, "maybe"},
		{[]string{"--data", dir, "--smtp-host", "mail.example", "--https", "127.0.0.1:0", "--http", "127.0.0.1:0",
			"--mqtt", "127.0.0.1:0", "--mqtt-ws", "127.0.0.1:0"}, 1, "--create-ca"},
	} {
		out, err := exec.Command(bin, tc.args...).CombinedOutput()
		if exitCode(err) != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d mentioning %q", tc.args, exitCode(err), out, tc.code, tc.want)
		}
	}
}

func TestPortInUseIsNamed(t *testing.T) {
	c := startDev(t, t.TempDir())
	port := strings.TrimPrefix(c.https, "https://localhost:")
	bin := daemontest.Build(t, pkg)
	out, err := exec.Command(bin, "--dev", "--data", t.TempDir(), "--https", "127.0.0.1:"+port,
		"--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0", "--mqtt-ws", "127.0.0.1:0").CombinedOutput()
	if exitCode(err) != 1 || !strings.Contains(string(out), "--https 127.0.0.1:"+port) {
		t.Fatalf("busy port: exit %d %q", exitCode(err), out)
	}
	// The same data directory twice: the store is locked.
	out, err = exec.Command(bin, "--dev", "--data", c.dir, "--https", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0", "--mqtt-ws", "127.0.0.1:0").CombinedOutput()
	if exitCode(err) != 1 || !strings.Contains(string(out), "in use") {
		t.Fatalf("second cloud on one data dir: exit %d %q", exitCode(err), out)
	}
}
