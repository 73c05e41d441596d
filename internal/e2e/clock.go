package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"timeclock/internal/daemontest"
)

// Clock is a running timeclockd on the simulated board.
type Clock struct {
	P   *daemontest.Proc
	Sim *daemontest.Sim
	Dir string
}

// FastSync is the --config of test clocks: reconnect within a fraction of
// a second, give a swallowed port a second.
var FastSync = map[string]any{
	"sync_backoff_min":     "20ms",
	"sync_backoff_max":     "500ms",
	"sync_connect_timeout": "2s",
	"feedback_time":        "300ms",
}

// StartClock runs timeclockd on the sim board in dir against the cloud,
// with config (nil: FastSync) as its --config file, and connects to its
// control socket.
func StartClock(t testing.TB, dir string, c *Cloud, config map[string]any, args ...string) *Clock {
	t.Helper()
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	if config == nil {
		config = FastSync
	}
	cfgFile := filepath.Join(dir, "test-config.json")
	b, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sim.sock")
	all := append([]string{"--board", "sim", "--state-dir", dir, "--sim-socket", sock, "--log-level", "debug",
		"--log-file", filepath.Join(dir, "timeclockd.log"), "--config", cfgFile,
		"--cloud", c.URL(), "--cloud-ca", c.CAFile(), "--cloud-ports", c.Ports.String()}, args...)
	p := daemontest.Start(t, bin, all...)
	k := &Clock{P: p, Dir: dir}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "timeclockd.log"))
			t.Logf("clock %s log:\n%s", dir, lastLines(string(b), 150))
		}
	})
	k.Sim = daemontest.DialSim(t, sock, Wait)
	return k
}

// Wait waits for a screen line containing text and returns the screen.
func (k *Clock) Wait(text string) string { return k.Sim.WaitScreen(text, Wait) }

// Keys presses keys by their socket names ("enter", "f4", "5").
func (k *Clock) Keys(keys ...string) {
	for _, key := range keys {
		k.Sim.OK("key %s", key)
	}
}

// Type types digits.
func (k *Clock) Type(digits string) {
	for _, d := range digits {
		k.Sim.OK("key %c", d)
	}
}

// Status is the sim socket's status.
func (k *Clock) Status() map[string]any { return k.Sim.OK("status") }

// Log is the clock's log so far.
func (k *Clock) Log() string {
	b, _ := os.ReadFile(filepath.Join(k.Dir, "timeclockd.log"))
	return string(b)
}

// Onboard walks a new clock through onboarding to the idle screen, as an
// installer does: company ID, confirm, the mailed code, the timezone. It
// returns the device ID.
func (k *Clock) Onboard(t testing.TB, c *Cloud) string {
	t.Helper()
	k.ToCode(c)
	id, _ := k.Activate(c.NewCode(t))["device_id"].(string)
	if id == "" || id == "none" {
		t.Fatalf("onboarded clock has no device ID: %v", k.Status())
	}
	return id
}

// ToCode walks from the first onboarding screen to the code entry: the
// company ID, confirmed.
func (k *Clock) ToCode(c *Cloud) {
	k.Wait("Company ID")
	k.Type(c.Company)
	k.Keys("enter")
	k.Wait("Demo Company")
	k.Keys("enter")
	k.Wait("Expires in")
}

// Activate types a code and confirms the timezone, ending at the idle
// screen; it returns the status.
func (k *Clock) Activate(code string) map[string]any {
	k.Type(code)
	k.Keys("enter")
	k.Wait("America/Chicago")
	k.Keys("enter")
	k.Wait("Badge or PIN")
	return k.Status()
}

// Stop ends the clock (SIGTERM) and waits.
func (k *Clock) Stop(t testing.TB) {
	t.Helper()
	k.P.Cmd.Process.Signal(os.Interrupt)
	if err := k.P.Wait(t, Wait); err != nil {
		t.Fatalf("clock exit: %v", err)
	}
}
