package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"timeclock/internal/await"
	harness "timeclock/internal/e2e"
	"timeclock/internal/testpki"
)

// TestHappyPath: from the network check to the idle screen, the device ID
// in the status; a restart goes straight to idle; no secret in the log.
func TestHappyPath(t *testing.T) {
	c := harness.StartCloud(t, harness.CloudOptions{})
	k := harness.StartClock(t, t.TempDir(), c, nil)
	k.Wait("Company ID")
	if st := k.Sim.OK("status"); st["state"] != "onboarding" || st["onboarding"] != "company_entry" || st["device_id"] != "none" {
		t.Fatalf("status while onboarding: %v", st)
	}
	k.ToCode(c)
	scr := k.Wait("Emailed to 1 admin")
	if !strings.Contains(scr, "Expires in 9:5") && !strings.Contains(scr, "Expires in 10:00") {
		t.Errorf("countdown: %q", scr)
	}
	code := c.NewCode(t)
	st := k.Activate(code)
	id, _ := st["device_id"].(string)
	// (cloud: the sync connects right after activation; either may show.)
	if id == "" || id == "none" || st["state"] != "idle" || (st["cloud"] != "offline" && st["cloud"] != "online") || st["timezone"] != "America/Chicago" || st["nickname"] == "" {
		t.Fatalf("status after onboarding: %v", st)
	}
	// The administrator's mail has the technician passcode; the clock
	// keeps only its hash.
	act := c.Mails("added")
	if len(act) == 0 {
		t.Fatalf("no activation mail")
	}
	m := passcodeRE.FindStringSubmatch(act[0])
	if m == nil {
		t.Fatalf("no passcode in the activation mail:\n%s", act[0])
	}
	passcode := m[1]
	logs := k.P.Output() + k.Log()
	for _, secret := range []string{code, passcode, "PRIVATE KEY"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the clock's log holds %q", secret)
		}
	}
	files, _ := filepath.Glob(filepath.Join(k.Dir, "identity", "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), passcode) || strings.Contains(string(b), code) {
			t.Errorf("%s holds a secret", f)
		}
	}
	key, err := os.Stat(filepath.Join(k.Dir, "identity", "key.pem"))
	if err != nil || key.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", key, err)
	}

	// Restarted, the clock is onboarded: no onboarding screens.
	k.P.Cmd.Process.Signal(syscall.SIGTERM)
	if err := k.P.Wait(t, harness.Wait); err != nil {
		t.Fatalf("clock exit: %v", err)
	}
	k2 := harness.StartClock(t, k.Dir, c, nil)
	k2.Wait("Badge or PIN")
	if st := k2.Sim.OK("status"); st["device_id"] != id || st["state"] != "idle" {
		t.Fatalf("after restart: %v", st)
	}
}

func TestWrongCompanyID(t *testing.T) {
	c := harness.StartCloud(t, harness.CloudOptions{})
	k := harness.StartClock(t, t.TempDir(), c, nil)
	k.Wait("Company ID")
	bad := "9" + c.Company
	k.Type(bad)
	k.Keys("enter")
	k.Wait("Unknown company")
	k.Wait("No company has the")
	k.Keys("enter")
	k.Wait("> " + bad + "_")
	for range bad {
		k.Keys("clear")
	}
	k.Type(c.Company)
	k.Keys("enter")
	k.Wait("Demo Company")
}

// TestFiveWrongCodes: each wrong code says the tries left; the fifth burns
// the code; a new one (after the cloud's 60 s) activates the clock.
func TestFiveWrongCodes(t *testing.T) {
	c := harness.StartCloud(t, harness.CloudOptions{})
	k := harness.StartClock(t, t.TempDir(), c, nil)
	k.ToCode(c)
	code := c.NewCode(t)
	for left := 4; left >= 1; left-- {
		k.Type(wrong(code))
		k.Keys("enter")
		k.Wait("Wrong code, " + string(rune('0'+left)) + " left")
		k.Wait("Code: ______")
	}
	k.Type(wrong(code))
	k.Keys("enter")
	k.Wait("Code blocked")
	// Too early for a new code: the cloud says how long to wait, at the end
	// of the "Code blocked" text (Down scrolls to it).
	k.Keys("enter")
	await.True(t, harness.Wait, func() bool { return strings.Contains(k.Log(), "resend too soon") },
		"the clock never heard that a new code is too early")
	k.Keys("down")
	k.Keys("down")
	k.Wait("New code in")
	c.Advance(t, 61*time.Second)
	k.Keys("enter") // "Enter=resend" on the blocked code's screen
	k.Wait("New code sent")
	code2 := c.NewCode(t)
	if code2 == code {
		t.Fatal("the new code is the burned one")
	}
	k.Activate(code2)
}

// TestExpiredCode: the cloud's clock moves past the ten minutes; the code is
// refused as expired and a new one works.
func TestExpiredCode(t *testing.T) {
	c := harness.StartCloud(t, harness.CloudOptions{})
	k := harness.StartClock(t, t.TempDir(), c, nil)
	k.ToCode(c)
	code := c.NewCode(t)
	c.Advance(t, 11*time.Minute)
	k.Type(code)
	k.Keys("enter")
	k.Wait("Code expired")
	k.Keys("enter")
	k.Wait("New code sent")
	k.Activate(c.NewCode(t))
}

// TestResend: F1 asks for a new code, which replaces the old one.
func TestResend(t *testing.T) {
	c := harness.StartCloud(t, harness.CloudOptions{})
	k := harness.StartClock(t, t.TempDir(), c, nil)
	k.ToCode(c)
	old := c.NewCode(t)
	k.Keys("f1")
	k.Wait("New code in")
	c.Advance(t, 61*time.Second)
	k.Keys("f1")
	k.Wait("New code sent")
	code := c.NewCode(t)
	k.Type(old)
	k.Keys("enter")
	k.Wait("Wrong code")
	k.Activate(code)
}

// TestRebootAtCode: the clock is killed while the installer reads the
// mail; started again it checks the network and asks for the same code.
func TestRebootAtCode(t *testing.T) {
	c := harness.StartCloud(t, harness.CloudOptions{})
	dir := t.TempDir()
	k := harness.StartClock(t, dir, c, nil)
	k.ToCode(c)
	code := c.NewCode(t)
	k.P.Cmd.Process.Kill()
	k.P.Wait(t, harness.Wait)
	k2 := harness.StartClock(t, dir, c, nil)
	k2.Wait("Expires in")
	k2.Activate(code)
}

// TestCloudDown: a cloud that is not running is named on screen, before and
// during onboarding; when it is back, Enter goes on.
func TestCloudDown(t *testing.T) {
	cdir := t.TempDir()
	c := harness.StartCloud(t, harness.CloudOptions{Dir: cdir})
	c.Stop(t)
	k := harness.StartClock(t, t.TempDir(), c, nil)
	k.Wait("Cloud unreachable")
	k.Wait("Enter=retry")

	c = harness.StartCloud(t, harness.CloudOptions{Dir: cdir, Ports: &c.Ports})
	k.Keys("enter")
	k.Wait("Company ID")
	k.Type(c.Company)
	k.Keys("enter")
	k.Wait("Demo Company")
	c.Stop(t)
	k.Keys("enter")
	k.Wait("Cloud unreachable")
	k.Wait("No connection to the")

	c = harness.StartCloud(t, harness.CloudOptions{Dir: cdir, Ports: &c.Ports})
	k.Keys("enter")
	k.Wait("Expires in")
	k.Activate(c.NewCode(t))
}

// TestWrongCA: a clock given another CA than the cloud's refuses the TLS
// connection and says so.
func TestWrongCA(t *testing.T) {
	c := harness.StartCloud(t, harness.CloudOptions{})
	dir := t.TempDir()
	other := filepath.Join(dir, "other-ca.pem")
	if err := os.WriteFile(other, testpki.NewCA(t, "not the cloud's CA").PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	k := harness.StartClock(t, dir, c, nil, "--cloud-ca", other)
	k.Wait("Cloud not trusted")
	if st := k.Sim.OK("status"); st["onboarding"] != "net_problem" {
		t.Errorf("status: %v", st)
	}
}
