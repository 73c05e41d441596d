package cloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/cloud/mosquitto"
	"timeclock/cloud/mosquitto/mosquittotest"
	"timeclock/cloud/pki"
	"timeclock/cloud/synctest"
	"timeclock/internal/await"
	"timeclock/internal/syncbuf"
	"timeclock/wire"
)

// The sync tests run the whole cloud (Run, in --dev mode) against each
// broker: the embedded one, and a real Mosquitto started by the test.
var brokers = []string{"embedded", "mosquitto"}

// cloudEnv is a running cloud and, for "mosquitto", its broker.
type cloudEnv struct {
	t      testing.TB
	kind   string
	dir    string
	cfg    Config
	info   Info
	mosq   *mosquittotest.Broker
	client *http.Client
	out    *syncbuf.Buffer
	log    *syncbuf.Buffer
	cancel context.CancelFunc
	done   chan error
}

func startCloud(t testing.TB, kind string) *cloudEnv {
	t.Helper()
	c := &cloudEnv{t: t, kind: kind, dir: t.TempDir(), out: &syncbuf.Buffer{}, log: &syncbuf.Buffer{}}
	c.cfg = DefaultConfig(true)
	c.cfg.DataDir = c.dir
	c.cfg.HTTPAddr, c.cfg.HTTPSAddr, c.cfg.MQTTAddr, c.cfg.MQTTWSAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	if kind == "mosquitto" {
		// The cloud's CA, made first: Mosquitto trusts it and the cloud
		// finds it in its data directory.
		ca, _, err := pki.LoadOrCreate(c.dir, "timeclock dev CA (not for production)", true, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		c.mosq = mosquittotest.Start(t, ca)
		if err := mosquitto.WriteClientCert(ca, c.dir, time.Now()); err != nil {
			t.Fatal(err)
		}
		c.cfg.MQTTBroker = "mqtts://localhost:" + strings.TrimPrefix(c.mosq.TLSURL(), "tls://localhost:")
		c.cfg.MQTTAddr, c.cfg.MQTTWSAddr = c.mosq.TLSAddr, c.mosq.WSAddr
		c.cfg.MosquittoDir, c.cfg.MosquittoPIDFile = c.mosq.Dir, c.mosq.PIDFile()
	}
	c.run()
	caPEM, err := os.ReadFile(filepath.Join(c.dir, pki.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	c.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	t.Cleanup(c.client.CloseIdleConnections)
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			t.Logf("cloud log:\n%s", c.log.String())
			if c.mosq != nil {
				t.Logf("mosquitto log:\n%s", c.mosq.Log())
			}
		}
	})
	return c
}

// run starts Run and waits until it is ready.
func (c *cloudEnv) run() {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan Info, 1)
	c.cancel, c.done = cancel, make(chan error, 1)
	log := slog.New(slog.NewTextHandler(c.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() {
		c.done <- Run(ctx, c.cfg, Options{Log: log, Out: c.out, Ready: func(i Info) { ready <- i }})
	}()
	select {
	case c.info = <-ready:
	case err := <-c.done:
		c.t.Fatalf("cloud did not start: %v\n%s", err, c.log.String())
	case <-time.After(30 * time.Second):
		c.t.Fatal("cloud not ready in 30 s")
	}
	if c.kind == "mosquitto" {
		await.True(c.t, 15*time.Second, func() bool { return strings.Contains(c.log.String(), "mqtt broker disconnected -> connected") },
			"the cloud never connected to mosquitto")
	}
}

func (c *cloudEnv) stop() {
	if c.cancel == nil {
		return
	}
	c.cancel()
	select {
	case err := <-c.done:
		if err != nil {
			c.t.Errorf("cloud ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		c.t.Error("cloud did not stop in 30 s")
	}
	c.cancel = nil
}

// restartCloud stops the cloud and starts it again on the same data and
// ports; with the embedded broker that is a broker restart too.
func (c *cloudEnv) restartCloud() {
	c.t.Helper()
	c.stop()
	c.cfg.HTTPAddr, c.cfg.HTTPSAddr = c.info.HTTPAddr, c.info.HTTPSAddr
	if c.kind == "embedded" {
		c.cfg.MQTTAddr, c.cfg.MQTTWSAddr = c.info.MQTTAddr, c.info.MQTTWSAddr
	}
	c.run()
}

// restartBroker restarts the broker the clocks talk to.
func (c *cloudEnv) restartBroker(i int) {
	c.t.Helper()
	if c.kind == "embedded" {
		c.restartCloud()
		return
	}
	if i%2 == 0 {
		c.mosq.Stop(c.t) // saves its state
	} else {
		c.mosq.Kill(c.t) // loses what it had in memory
	}
	c.mosq.StartAgain(c.t)
}

func (c *cloudEnv) onboard(serial string) synctest.Identity {
	c.t.Helper()
	return synctest.Onboard(c.t, c.client, "https://"+c.info.HTTPSAddr, c.info.CompanyID, filepath.Join(c.dir, "outbox"), serial)
}

// api calls the admin API with the dev admin token.
func (c *cloudEnv) api(method, path, body string, out any) *wire.Error {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, "https://"+c.info.HTTPSAddr+path, r)
	req.Header.Set("Authorization", "Bearer "+c.info.AdminToken)
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		var we wire.Error
		json.Unmarshal(b, &we)
		return &we
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %s: %v", method, path, b, err)
		}
	}
	return nil
}

type punchList struct {
	Punches []struct {
		ID       string `json:"id"`
		Seq      uint64 `json:"seq"`
		Employee string `json:"employee"`
		Final    bool   `json:"final"`
	} `json:"punches"`
	Next string `json:"next"`
}

// stored lists every punch the cloud has from a device.
func (c *cloudEnv) stored(id string) punchList {
	c.t.Helper()
	var all punchList
	after := ""
	for {
		var l punchList
		if we := c.api("GET", "/api/v1/punches?device="+id+"&limit=10000&after="+after, "", &l); we != nil {
			c.t.Fatalf("punches: %v", we)
		}
		all.Punches = append(all.Punches, l.Punches...)
		if l.Next == "" {
			return all
		}
		after = l.Next
	}
}

type deviceRow struct {
	ID               string    `json:"id"`
	Nickname         string    `json:"nickname"`
	Status           string    `json:"status"`
	Online           bool      `json:"online"`
	LastCheckedIn    time.Time `json:"last_checked_in"`
	LastUsedBy       string    `json:"last_used_by"`
	Version          string    `json:"version"`
	Type             string    `json:"type"`
	DisabledDate     time.Time `json:"disabled_date"`
	DisabledBy       string    `json:"disabled_by"`
	LastTransmission string    `json:"last_transmission"`
	FinalSeq         uint64    `json:"final_seq"`
	RosterVersion    uint64    `json:"roster_version"`
	Punches          uint64    `json:"punches"`
}

type deviceList struct {
	Approved []deviceRow `json:"approved"`
	Disabled []deviceRow `json:"disabled"`
}

func (c *cloudEnv) row(id string) (deviceRow, bool) {
	c.t.Helper()
	var l deviceList
	if we := c.api("GET", "/api/v1/devices", "", &l); we != nil {
		c.t.Fatal(we)
	}
	for _, r := range append(l.Approved, l.Disabled...) {
		if r.ID == id {
			return r, true
		}
	}
	return deviceRow{}, false
}

// clock is a simulated clock on the cloud's endpoint (TLS, or WebSocket);
// setup (if any) runs before it connects.
func (c *cloudEnv) clock(id synctest.Identity, ws bool, setup ...func(*synctest.Device)) *synctest.Device {
	c.t.Helper()
	d := synctest.NewDevice(id.DeviceID, id.TLS.Clone())
	d.ResendAfter = 500 * time.Millisecond
	for _, f := range setup {
		f(d)
	}
	url := id.TLSURL()
	if ws {
		url = id.Endpoints.WebSocket
	}
	d.Run(url)
	c.t.Cleanup(d.Close)
	await.True(c.t, 15*time.Second, d.Connected, "clock %s never connected to %s", id.DeviceID, url)
	return d
}
