package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"timeclock/internal/testpki"
)

// TestHappyPath: from the network check to the idle screen, the device ID
// in the status; a restart goes straight to idle; no secret in the log.
func TestHappyPath(t *testing.T) {
	c := startCloud(t, t.TempDir(), nil)
	k := startClock(t, t.TempDir(), c, c.caFile())
	k.wait(t, "Company ID")
	if st := k.sim.OK("status"); st["state"] != "onboarding" || st["onboarding"] != "company_entry" || st["device_id"] != "none" {
		t.Fatalf("status while onboarding: %v", st)
	}
	k.toCode(t, c)
	scr := k.wait(t, "Emailed to 1 admin")
	if !strings.Contains(scr, "Expires in 9:5") && !strings.Contains(scr, "Expires in 10:00") {
		t.Errorf("countdown: %q", scr)
	}
	code := c.newCode(t)
	st := k.activate(t, code)
	id, _ := st["device_id"].(string)
	if id == "" || id == "none" || st["state"] != "idle" || st["cloud"] != "offline" || st["timezone"] != "America/Chicago" || st["nickname"] == "" {
		t.Fatalf("status after onboarding: %v", st)
	}
	// The administrator's mail has the technician passcode; the clock
	// keeps only its hash.
	act := c.mails(t, "added")
	if len(act) == 0 {
		t.Fatalf("no activation mail")
	}
	m := passcodeRE.FindStringSubmatch(act[0])
	if m == nil {
		t.Fatalf("no passcode in the activation mail:\n%s", act[0])
	}
	passcode := m[1]
	logs := k.p.Output()
	for _, secret := range []string{code, passcode, "PRIVATE KEY"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the clock's log holds %q", secret)
		}
	}
	files, _ := filepath.Glob(filepath.Join(k.dir, "identity", "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), passcode) || strings.Contains(string(b), code) {
			t.Errorf("%s holds a secret", f)
		}
	}
	key, err := os.Stat(filepath.Join(k.dir, "identity", "key.pem"))
	if err != nil || key.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", key, err)
	}

	// Restarted, the clock is onboarded: no onboarding screens.
	k.p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := k.p.Wait(t, wait); err != nil {
		t.Fatalf("clock exit: %v", err)
	}
	k2 := startClock(t, k.dir, c, c.caFile())
	k2.wait(t, "Badge or PIN")
	if st := k2.sim.OK("status"); st["device_id"] != id || st["state"] != "idle" {
		t.Fatalf("after restart: %v", st)
	}
}

func TestWrongCompanyID(t *testing.T) {
	c := startCloud(t, t.TempDir(), nil)
	k := startClock(t, t.TempDir(), c, c.caFile())
	k.wait(t, "Company ID")
	bad := "9" + c.company
	k.typ(t, bad)
	k.press(t, "enter")
	k.wait(t, "Unknown company")
	k.wait(t, "No company has the")
	k.press(t, "enter")
	k.wait(t, "> "+bad+"_")
	for range bad {
		k.press(t, "clear")
	}
	k.typ(t, c.company)
	k.press(t, "enter")
	k.wait(t, "Demo Company")
}

// TestFiveWrongCodes: each wrong code says the tries left; the fifth burns
// the code; a new one (after the cloud's 60 s) activates the clock.
func TestFiveWrongCodes(t *testing.T) {
	c := startCloud(t, t.TempDir(), nil)
	k := startClock(t, t.TempDir(), c, c.caFile())
	k.toCode(t, c)
	code := c.newCode(t)
	for left := 4; left >= 1; left-- {
		k.typ(t, wrong(code))
		k.press(t, "enter")
		k.wait(t, "Wrong code, "+string(rune('0'+left))+" left")
		k.wait(t, "Code: ______")
	}
	k.typ(t, wrong(code))
	k.press(t, "enter")
	k.wait(t, "Code blocked")
	// Too early for a new code: the cloud says how long to wait.
	k.press(t, "enter")
	k.wait(t, "New code in")
	c.advance(t, 61*time.Second)
	k.press(t, "f1")
	k.wait(t, "New code sent")
	code2 := c.newCode(t)
	if code2 == code {
		t.Fatal("the new code is the burned one")
	}
	k.activate(t, code2)
}

// TestExpiredCode: the cloud's clock moves past the ten minutes; the code is
// refused as expired and a new one works.
func TestExpiredCode(t *testing.T) {
	c := startCloud(t, t.TempDir(), nil)
	k := startClock(t, t.TempDir(), c, c.caFile())
	k.toCode(t, c)
	code := c.newCode(t)
	c.advance(t, 11*time.Minute)
	k.typ(t, code)
	k.press(t, "enter")
	k.wait(t, "Code expired")
	k.press(t, "enter")
	k.wait(t, "New code sent")
	k.activate(t, c.newCode(t))
}

// TestResend: F1 asks for a new code, which replaces the old one.
func TestResend(t *testing.T) {
	c := startCloud(t, t.TempDir(), nil)
	k := startClock(t, t.TempDir(), c, c.caFile())
	k.toCode(t, c)
	old := c.newCode(t)
	k.press(t, "f1")
	k.wait(t, "New code in")
	c.advance(t, 61*time.Second)
	k.press(t, "f1")
	k.wait(t, "New code sent")
	code := c.newCode(t)
	k.typ(t, old)
	k.press(t, "enter")
	k.wait(t, "Wrong code")
	k.activate(t, code)
}

// TestRebootAtCode: the clock is killed while the installer reads the
// mail; started again it checks the network and asks for the same code.
func TestRebootAtCode(t *testing.T) {
	c := startCloud(t, t.TempDir(), nil)
	dir := t.TempDir()
	k := startClock(t, dir, c, c.caFile())
	k.toCode(t, c)
	code := c.newCode(t)
	k.p.Cmd.Process.Kill()
	k.p.Wait(t, wait)
	k2 := startClock(t, dir, c, c.caFile())
	k2.wait(t, "Expires in")
	k2.activate(t, code)
}

// TestCloudDown: a cloud that is not running is named on screen, before and
// during onboarding; when it is back, Enter goes on.
func TestCloudDown(t *testing.T) {
	cdir := t.TempDir()
	c := startCloud(t, cdir, nil)
	c.stop(t)
	k := startClock(t, t.TempDir(), c, c.caFile())
	k.wait(t, "Cloud unreachable")
	k.wait(t, "Enter=retry")

	c = startCloud(t, cdir, &c.ports)
	k.press(t, "enter")
	k.wait(t, "Company ID")
	k.typ(t, c.company)
	k.press(t, "enter")
	k.wait(t, "Demo Company")
	c.stop(t)
	k.press(t, "enter")
	k.wait(t, "Cloud unreachable")
	k.wait(t, "No connection to the")

	c = startCloud(t, cdir, &c.ports)
	k.press(t, "enter")
	k.wait(t, "Expires in")
	k.activate(t, c.newCode(t))
}

// TestWrongCA: a clock given another CA than the cloud's refuses the TLS
// connection and says so.
func TestWrongCA(t *testing.T) {
	c := startCloud(t, t.TempDir(), nil)
	dir := t.TempDir()
	other := filepath.Join(dir, "other-ca.pem")
	if err := os.WriteFile(other, testpki.NewCA(t, "not the cloud's CA").PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	k := startClock(t, dir, c, other)
	k.wait(t, "Cloud not trusted")
	if st := k.sim.OK("status"); st["onboarding"] != "net_problem" {
		t.Errorf("status: %v", st)
	}
}
