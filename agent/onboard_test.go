package agent

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/hal"
	"timeclock/hal/sim"
	"timeclock/internal/await"
	"timeclock/internal/fakecloud"
	"timeclock/internal/syncbuf"
	"timeclock/internal/testpki"
	"timeclock/onboarding/netcheck"
)

// onboardRig is an agent with a cloud configured, on a simulated board.
type onboardRig struct {
	t     *testing.T
	board *sim.Board
	agent *Agent
	stop  func() error
	logs  *syncbuf.Buffer
}

// startOnboardRig starts an agent onboarding with cloud, trusting the CA
// caPEM (cloud.CA's, or another to see it refused).
func startOnboardRig(t *testing.T, cloud *fakecloud.API, caPEM []byte, dir string) *onboardRig {
	t.Helper()
	caFile := filepath.Join(dir, "cloud-ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.StateDir, cfg.CloudURL, cfg.CloudCA, cfg.CloudPorts = dir, cloud.URL, caFile, cloud.Ports
	// The wall clock: TLS checks the test CA's dates with it.
	b, err := sim.New(&sim.Opts{Cols: 20, Rows: 4, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	a, err := New(cfg, Hardware{Model: "sim", Keypad: b.Keypad(), Display: b.Display(), Indicator: b.Indicator(), Badges: []hal.BadgeReader{b.BadgeReader()}, Network: []string{"eth0", "wlan0"}, WiFi: []string{"wlan0"}},
		Options{Clock: clock.Real{}, Logger: slog.New(slog.NewTextHandler(logs, nil)), NTPSynced: func() bool { return true }, NetworkIface: func() string { return "eth0" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	r := &onboardRig{t: t, board: b, agent: a, logs: logs}
	r.stop = sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() { r.stop(); b.Halt() })
	return r
}

func (r *onboardRig) waitScreen(want string) {
	r.t.Helper()
	await.True(r.t, 10*time.Second, func() bool { return strings.Contains(strings.Join(r.board.Screen(), "\n"), want) },
		"screen never showed %q (now %q)", want, r.board.Screen())
}

func (r *onboardRig) typ(keys ...string) {
	for _, k := range keys {
		for _, c := range k {
			r.board.Press(hal.Key(c - '0'))
		}
	}
}

func (r *onboardRig) press(k hal.Key) { r.board.Press(k) }

func TestOnboardingThenIdle(t *testing.T) {
	cloud := fakecloud.NewAPI(t, nil)
	dir := t.TempDir()
	r := startOnboardRig(t, cloud, cloud.CA.PEM(), dir)
	r.waitScreen("Company ID")
	if err := alive(r.agent, 5*time.Second); err != nil {
		t.Fatalf("onboarding does not answer the liveness probe: %v", err)
	}
	if st := r.agent.Status(); st.State != StateOnboarding || st.Onboarding != "company_entry" || st.DeviceID != "" || st.Cloud != "offline" {
		t.Fatalf("status while onboarding: %+v", st)
	}
	r.board.Swipe("10001") // no punch while onboarding
	await.True(t, 5*time.Second, func() bool { return strings.Contains(r.logs.String(), "badge ignored") }, "badge not dropped")
	r.typ("999")
	r.press(hal.KeyEnter)
	r.waitScreen("Unknown company")
	r.press(hal.KeyEnter)
	r.waitScreen("> 999_")
	r.press(hal.KeyClear)
	r.press(hal.KeyClear)
	r.press(hal.KeyClear)
	r.typ(fakecloud.CompanyID)
	r.press(hal.KeyEnter)
	r.waitScreen("Acme Builders")
	r.press(hal.KeyEnter)
	r.waitScreen("Expires in")
	r.typ(fakecloud.Code)
	r.press(hal.KeyEnter)
	r.waitScreen("America/Chicago")
	r.press(hal.KeyEnter)
	r.waitScreen("Badge or PIN")
	st := r.agent.Status().Map()
	for k, want := range map[string]any{"state": "idle", "device_id": fakecloud.DeviceID, "nickname": fakecloud.Nickname, "timezone": fakecloud.Timezone, "cloud": "offline", "onboarding": ""} {
		if st[k] != want {
			t.Errorf("status %s = %v, want %v", k, st[k], want)
		}
	}
	if id := r.agent.Identity(); id == nil || !id.VerifyPasscode(fakecloud.Passcode) {
		t.Fatalf("identity %v", id)
	}
	if strings.Contains(r.logs.String(), fakecloud.Code) || strings.Contains(r.logs.String(), fakecloud.Passcode) {
		t.Fatalf("a secret reached the log:\n%s", r.logs.String())
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}

	// Started again, the clock is onboarded: straight to idle, in the
	// company's timezone.
	r2 := startOnboardRig(t, cloud, cloud.CA.PEM(), dir)
	r2.waitScreen("Badge or PIN")
	if st := r2.agent.Status(); st.DeviceID != fakecloud.DeviceID || st.State != StateIdle {
		t.Fatalf("after restart: %+v", st)
	}
	want := time.Now().In(r2.agent.Identity().Location()).Format("15:04")
	r2.waitScreen(want[:3])
	r2.stop()

	// A torn identity is set aside and the clock onboards again.
	os.Remove(filepath.Join(dir, "identity", "cert.pem"))
	r3 := startOnboardRig(t, cloud, cloud.CA.PEM(), dir)
	r3.waitScreen("Company ID")
	if !strings.Contains(r3.logs.String(), "identity damaged") {
		t.Errorf("no clear log line for the torn identity:\n%s", r3.logs.String())
	}
	ents, _ := filepath.Glob(filepath.Join(dir, "identity.torn-*"))
	if len(ents) != 1 {
		t.Errorf("torn identity not set aside: %v", ents)
	}
}

func TestStandaloneNeverOnboards(t *testing.T) {
	r := newRig(t, DefaultConfig(), 20, 4)
	r.waitScreen("Badge or PIN")
	if st := r.agent.Status(); st.Cloud != "standalone" || st.DeviceID != "" {
		t.Fatalf("standalone status %+v", st)
	}
}

func TestOnboardingWrongCA(t *testing.T) {
	cloud := fakecloud.NewAPI(t, nil)
	dir := t.TempDir()
	r := startOnboardRig(t, cloud, testpki.NewCA(t, "not the cloud's CA").PEM(), dir)
	r.waitScreen("Cloud not trusted")
}

// The port a cloud URL names is onboarding's (onboarding.Setup.Target).
func TestCloudPortsConfig(t *testing.T) {
	c := DefaultConfig()
	if c.CloudPorts != netcheck.DefaultPorts {
		t.Fatalf("default ports %+v", c.CloudPorts)
	}
	c.CloudPorts.MQTT = 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "cloud_ports") {
		t.Fatalf("port 0: %v", err)
	}
}

// TestIdentityAPIs: the passcode hash for the console, the network check on
// demand, and erasing the identity.
func TestIdentityAPIs(t *testing.T) {
	cloud := fakecloud.NewAPI(t, nil)
	dir := t.TempDir()
	r := startOnboardRig(t, cloud, cloud.CA.PEM(), dir)
	if h, err := r.agent.PasscodeHash(); h != "" || err != nil {
		t.Fatalf("hash before onboarding: %q %v", h, err)
	}
	var out strings.Builder
	if err := r.agent.NetCheck(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"interface: sim", "link: skipped", "tcp: ok", "tls: ok", "result: the network is fine"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("netcheck output lacks %q:\n%s", want, out.String())
		}
	}
	r.waitScreen("Company ID")
	r.typ(fakecloud.CompanyID)
	r.press(hal.KeyEnter)
	r.waitScreen("Acme")
	r.press(hal.KeyEnter)
	r.waitScreen("Expires in")
	r.typ(fakecloud.Code)
	r.press(hal.KeyEnter)
	r.waitScreen("Local time")
	r.press(hal.KeyEnter)
	r.waitScreen("Badge or PIN")
	h, err := r.agent.PasscodeHash()
	if err != nil || !strings.HasPrefix(h, "$2") {
		t.Fatalf("hash %q %v, want bcrypt", h, err)
	}
	if err := r.agent.EraseIdentity(); err != nil {
		t.Fatal(err)
	}
	if st := r.agent.Status(); st.DeviceID != "" {
		t.Fatalf("device ID after erase: %+v", st)
	}
	if _, err := os.Stat(filepath.Join(dir, "identity")); !os.IsNotExist(err) {
		t.Fatalf("identity files left: %v", err)
	}
	// No cloud, nothing to check.
	a, _ := New(DefaultConfig(), Hardware{Model: "sim", Keypad: r.board.Keypad(), Display: r.board.Display(), Indicator: r.board.Indicator()}, Options{})
	if err := a.NetCheck(context.Background(), &out); err == nil {
		t.Fatal("netcheck without a cloud")
	}
}
