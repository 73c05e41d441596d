package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"timeclock/cloud/notify/smtptest"
	"timeclock/internal/daemontest"
	"timeclock/internal/e2e"
)

// TestFromNothing follows docs/cloud.md "From nothing" with the real
// binary: a company, its administrator (password on stdin), a role and a
// user with it (password from a file), an admin token; then the cloud
// without --dev (its own CA, mail through SMTP), and a clock onboarding to
// that company with the code the administrator was mailed.
func TestFromNothing(t *testing.T) {
	bin := daemontest.Build(t, pkg)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	smtp := smtptest.Start(t)
	const adminPass, userPass = "correct horse battery", "payroll pass 1234"
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("timeclock-cloud %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		for _, secret := range []string{adminPass, userPass} {
			if strings.Contains(string(out), secret) {
				t.Fatalf("a password was printed:\n%s", out)
			}
		}
		return string(out)
	}
	const company = "482913"
	run("", "company", "add", "--data", data, "--id", company, "--name", "Acme Builders", "--timezone", "America/Chicago")
	run(adminPass+"\n", "user", "add", "--data", data, "--company", company, "--email", "dana@acme.example",
		"--name", "Dana Admin", "--administrator", "--password-stdin")
	run("", "role", "add", "--data", data, "--company", company, "--id", "payroll", "--name", "Payroll",
		"--permission", "dashboard.access", "--permission", "mobile_devices.view")
	passFile := filepath.Join(dir, "pat-pass")
	os.WriteFile(passFile, []byte(userPass+"\n"), 0o600)
	run("", "user", "add", "--data", data, "--company", company, "--email", "pat@acme.example",
		"--name", "Pat Payroll", "--role", "payroll", "--password-file", passFile)
	m := regexp.MustCompile(`(?m)^admin token: (\S+)$`).FindStringSubmatch(
		run("", "token", "add", "--data", data, "--company", company, "--email", "dana@acme.example"))
	if m == nil {
		t.Fatal("token add printed no token")
	}
	token := m[1]

	// Mistakes are refused with what is wrong, and change nothing.
	for _, bad := range [][]string{
		{"company", "add", "--data", data, "--id", company, "--name", "Again", "--timezone", "UTC"},
		{"company", "add", "--data", data, "--id", "12", "--name", "Short", "--timezone", "UTC"},
		{"user", "add", "--data", data, "--company", company, "--email", "x@acme.example", "--name", "X", "--role", "nosuch"},
		{"user", "add", "--data", data, "--company", company, "--email", "y@acme.example", "--name", "Y", adminPass},
		{"role", "add", "--data", data, "--company", company, "--id", "r", "--name", "R", "--permission", "everything"},
	} {
		out, err := exec.Command(bin, bad...).CombinedOutput()
		if err == nil || strings.Contains(string(out), adminPass) {
			t.Errorf("%s: %v\n%s", strings.Join(bad, " "), err, out)
		}
	}

	// The mail server and the SMS provider, in the store.
	smtpCA := filepath.Join(dir, "smtp-ca.pem")
	os.WriteFile(smtpCA, smtp.CAPEM, 0o644)
	smtpPass := filepath.Join(dir, "smtp-pass")
	os.WriteFile(smtpPass, []byte(smtp.Pass+"\n"), 0o600)
	run("", "mail", "set", "--data", data, "--host", smtp.Host, "--port", strconv.Itoa(smtp.Port), "--user", smtp.User,
		"--password-file", smtpPass, "--ca", smtpCA, "--from", "Acme clocks <clocks@acme.example>")
	const smsToken = "sms-token-0123456789"
	run(smsToken+"\n", "sms", "set", "--data", data, "--url", "http://127.0.0.1:1/send", "--from", "+15550100", "--token-stdin")
	if out, err := exec.Command(bin, "mail", "set", "--data", data, "--host", smtp.Host, "--user", smtp.User).CombinedOutput(); err == nil {
		t.Errorf("mail set with a user and no password: %s", out)
	}

	// The cloud, without --dev and without mail flags: the store has them.
	p := daemontest.Start(t, bin, "--data", data, "--create-ca", "--public-host", "localhost",
		"--http", "127.0.0.1:0", "--https", "127.0.0.1:0", "--mqtt", "127.0.0.1:0", "--mqtt-ws", "127.0.0.1:0",
		"--log-file", filepath.Join(dir, "cloud.log"))
	p.WaitOutput(t, "\nready\n", 60*time.Second)
	c := &e2e.Cloud{P: p, Dir: data, Company: company, Token: token}
	for _, l := range regexp.MustCompile(`(?m)^listening (\S+) 127\.0\.0\.1:(\d+)$`).FindAllStringSubmatch(p.Output(), -1) {
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
	if err := c.Ports.Validate(); err != nil {
		t.Fatalf("ports %+v: %v\n%s", c.Ports, err, p.Output())
	}

	// A clock onboards to the company with the code mailed to its
	// administrator, and only to them.
	k := e2e.StartClock(t, filepath.Join(dir, "clock"), c, nil)
	k.Wait("Company ID")
	k.Type(company)
	k.Keys("enter")
	k.Wait("Acme Builders")
	k.Keys("enter")
	k.Wait("Expires in")
	mails := smtp.WaitMails(t, 1, e2e.Wait)
	if len(mails[0].To) != 1 || mails[0].To[0] != "dana@acme.example" || mails[0].From != "clocks@acme.example" || !mails[0].TLS {
		t.Fatalf("the code went %+v, want to the administrator alone, from the stored address, over TLS", mails[0])
	}
	code := regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`).FindStringSubmatch(mails[0].Body())
	if code == nil {
		t.Fatalf("no code in the mail:\n%s", mails[0].Body())
	}
	k.Type(code[1])
	k.Keys("enter")
	k.Wait("America/Chicago")
	k.Keys("enter")
	k.Wait("Badge or PIN")
	id, _ := k.Status()["device_id"].(string)
	if id == "" || id == "none" {
		t.Fatalf("no device ID: %v", k.Status())
	}
	k.Wait("Online")

	// The token made by "token add" works on the admin API and lists it.
	var devices map[string]any
	if code := c.API(t, http.MethodGet, "/api/v1/devices", nil, &devices); code != 200 {
		t.Fatalf("devices with the token: %d", code)
	}
	b, _ := json.Marshal(devices)
	if !strings.Contains(string(b), id) {
		t.Errorf("the clock %s is not on the company's devices: %s", id, b)
	}
	// https://HOST/ is the admin pages' login.
	resp, err := c.Client(t).Get(c.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/admin/login" && !strings.HasPrefix(resp.Request.URL.Path, "/admin/") {
		t.Errorf("https://HOST/ ended at %s", resp.Request.URL)
	}
	logb, _ := os.ReadFile(filepath.Join(dir, "cloud.log"))
	for _, secret := range []string{adminPass, userPass, smtp.Pass, smsToken, token, code[1]} {
		if strings.Contains(p.Output()+string(logb), secret) {
			t.Errorf("a secret reached the cloud's output or log: %q", fmt.Sprint(len(secret), " characters"))
		}
	}
}
