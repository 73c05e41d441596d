package cloudsync_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"timeclock/agent/roster"
	"timeclock/agent/store"
	"timeclock/internal/await"
	"timeclock/internal/e2e"
)

// TestNoSecretInAnyLog: the cloud and the clock, both at debug level, go
// through onboarding, a roster push with PINs, punches by badge and PIN
// and a disable; then no log of either (the log files and whatever else
// they wrote, the dev cloud's DEV MAIL blocks and
// printed admin logins aside: those are its console, by contract) holds
// the roster's salt, a PIN hash, the authentication code, the technician
// passcode, the clock's private key or the admin token, in any of the
// forms a log could write them, nor any MQTT payload.
func TestNoSecretInAnyLog(t *testing.T) {
	for _, b := range brokers {
		t.Run(b, func(t *testing.T) {
			c := startCloud(t, b)
			k := e2e.StartClock(t, t.TempDir(), c, nil)
			k.ToCode(c)
			code := c.NewCode(t)
			id, _ := k.Activate(code)["device_id"].(string)
			await.True(t, wait, func() bool { return c.Device(t, id).RosterVersion > 0 }, "the roster never reached the clock")
			passcode := mailedPasscode(t, c)
			// The administrator logs in to the admin pages: a wrong password
			// first, then the printed one.
			login := adminLoginRE.FindStringSubmatch(c.P.Output())
			if login == nil {
				t.Fatalf("no admin login printed:\n%s", c.P.Output())
			}
			const wrongPassword = "not-the-password-7Qx"
			if st, _ := webLogin(t, c, login[1], wrongPassword); st != http.StatusUnauthorized {
				t.Fatalf("a wrong password: HTTP %d", st)
			}
			st, session := webLogin(t, c, login[1], login[2])
			if st != http.StatusSeeOther && st != http.StatusFound || session == "" {
				t.Fatalf("the printed login: HTTP %d, session cookie %v", st, session != "")
			}

			before := c.Device(t, id).RosterVersion
			if st := c.API(t, "PATCH", "/api/v1/roster", map[string]any{"upsert": []map[string]any{
				{"id": "E200", "name": "Marie Curie", "badges": []string{"30001"}, "pin": pinMarie},
				{"id": "E201", "name": "Lise Meitner", "badges": []string{"30002"}, "pin": pinLise}}}, nil); st != 200 {
				t.Fatalf("roster: HTTP %d", st)
			}
			await.True(t, wait, func() bool { return c.Device(t, id).RosterVersion > before }, "the roster change never reached the clock")
			k.Wait("Online")
			swipe(k, "10002", "Grace Hopper")
			k.Type(pinMarie)
			k.Keys("enter")
			k.Wait("Marie Curie")

			// The roster as the clock keeps it: its salt and PIN hashes.
			k.Stop(t)
			salt, hashes := clockRoster(t, k.Dir)
			if len(hashes) < 3 {
				t.Fatalf("only %d PIN hashes in the clock's roster", len(hashes))
			}
			key := clockKey(t, k.Dir)
			k = e2e.StartClock(t, k.Dir, c, nil)
			k.Wait("Online")
			swipe(k, "30002", "Lise Meitner")
			cloudHas(t, c, id, 3)

			if st := c.API(t, "POST", "/api/v1/devices/"+id+"/disable", struct{}{}, nil); st != 200 {
				t.Fatalf("disable: HTTP %d", st)
			}
			k.Wait("Disabled by")
			await.True(t, wait, func() bool { return c.Device(t, id).Status == "disabled" }, "the disable never completed")
			k.Stop(t)
			c.Stop(t)

			logs := map[string]string{
				"cloud log file":  c.Log(),
				"cloud output":    withoutDevMail(c.P.Output()),
				"clock log file":  k.Log(),
				"clock output":    k.P.Output(),
				"mosquitto's log": "",
			}
			if c.Mosquitto != nil {
				logs["mosquitto's log"] = c.Mosquitto.Log()
			}
			if !strings.Contains(logs["cloud log file"], "level=DEBUG") || !strings.Contains(logs["clock log file"], "level=DEBUG") {
				t.Fatal("the logs are not at debug level")
			}
			secrets := map[string][]string{
				"PIN":                 {pinMarie, pinLise},
				"roster salt":         byteForms(salt),
				"authentication code": {code},
				"technician passcode": {passcode},
				"admin token":         {c.Token},
				"admin password":      {login[2]},
				"wrong password":      {wrongPassword},
				"admin session":       {session},
				"device private key":  byteForms(key),
				"MQTT payload":        {`"salt"`, `"pin_hash"`, `\"salt\"`, `\"pin_hash\"`, "Payload:", `"employees"`, `\"employees\"`},
			}
			for i, h := range hashes {
				secrets[fmt.Sprintf("PIN hash %d", i)] = byteForms(h)
			}
			for where, log := range logs {
				for what, forms := range secrets {
					for _, f := range forms {
						if found(log, f) {
							t.Errorf("the %s has the %s (as %q)", where, what, f)
						}
					}
				}
			}
		})
	}
}

// found reports whether log has s, not as the tail of a longer word (a
// 6-digit code inside a longer number is not the code).
func found(log, s string) bool {
	re := regexp.QuoteMeta(s)
	if regexp.MustCompile(`^\w`).MatchString(s) {
		re = `\b` + re
	}
	return regexp.MustCompile(re).MatchString(log)
}

// byteForms are the ways bytes could be written in a log: base64 (as JSON
// carries them), hex, Go's decimal byte list, and the decimal list of the
// base64 text (mochi printing a JSON payload).
func byteForms(b []byte) []string {
	b64 := base64.StdEncoding.EncodeToString(b)
	dec := func(x []byte) string { return strings.TrimSuffix(fmt.Sprint(x[:min(len(x), 12)]), "]") }
	return []string{b64[:min(len(b64), 24)], hex.EncodeToString(b), dec(b)[1:], dec([]byte(b64))[1:]}
}

// PINs long enough that no other number in a log is them by chance.
const pinMarie, pinLise = "86420975", "31975308"

var adminLoginRE = regexp.MustCompile(`(?m)^admin login: (\S+) / (\S+)$`)

// webLogin logs in to the admin pages as a browser does (the login page's
// CSRF token, then the form) and returns the status and the session cookie.
func webLogin(t *testing.T, c *e2e.Cloud, email, password string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	base := c.Client(t)
	cl := &http.Client{Jar: jar, Transport: base.Transport, Timeout: wait,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Get(c.URL() + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the login page:\n%s", page)
	}
	resp, err = cl.PostForm(c.URL()+"/admin/login", url.Values{"csrf": {string(m[1])}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Value != "" && strings.Contains(strings.ToLower(ck.Name), "session") {
			return resp.StatusCode, ck.Value
		}
	}
	return resp.StatusCode, ""
}

var passcodeRE = regexp.MustCompile(`(?m)^\s+(\d{10})\s*$`)

// mailedPasscode is the technician passcode from the cloud's "added" mail.
func mailedPasscode(t *testing.T, c *e2e.Cloud) string {
	t.Helper()
	body := await.Value(t, wait, func() (string, bool) {
		m := c.Mails("Timeclock ")
		return strings.Join(m, "\n"), len(m) > 0
	}, "no activation mail")
	m := passcodeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no passcode in the mail:\n%s", body)
	}
	return m[1]
}

// clockRoster reads a stopped clock's roster: its salt and PIN hashes.
func clockRoster(t *testing.T, dir string) ([]byte, [][]byte) {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kp, err := roster.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	r := kp.Current()
	var hashes [][]byte
	for _, e := range r.Employees() {
		if len(e.PINHash) > 0 {
			hashes = append(hashes, e.PINHash)
		}
	}
	return r.Salt(), hashes
}

// clockKey is the clock's private key's secret scalar.
func clockKey(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "identity", "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	d, err := k.(*ecdsa.PrivateKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var (
	devMailRE   = regexp.MustCompile(`(?s)----- DEV MAIL .*?----- end of DEV MAIL -----`)
	devLoginsRE = regexp.MustCompile(`(?m)^admin (token|login): .*$`)
)

// withoutDevMail is the dev cloud's output without the mails and the
// admin logins it prints for the person running it (DESIGN's contract).
func withoutDevMail(s string) string {
	return devLoginsRE.ReplaceAllString(devMailRE.ReplaceAllString(s, ""), "")
}
