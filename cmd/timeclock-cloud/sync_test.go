package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/cloud/mosquitto/mosquittotest"
	"timeclock/cloud/synctest"
	"timeclock/internal/await"
	"timeclock/internal/daemontest"
	"timeclock/wire"
)

var (
	endpointsRE = regexp.MustCompile(`(?m)^mqtt endpoints for clocks: (\S+) and (\S+) \((embedded|external) broker\)$`)
)

type punchPage struct {
	Punches []struct {
		ID    string `json:"id"`
		Final bool   `json:"final"`
	} `json:"punches"`
}

type devRow struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	DisabledBy       string `json:"disabled_by"`
	LastTransmission string `json:"last_transmission"`
	Online           bool   `json:"online"`
}

// clockAgainst onboards a simulated clock at the binary, connects it and
// answers commands as a clock does (a disable with its last transmission).
func clockAgainst(t *testing.T, c *proc, serial string) (synctest.Identity, *synctest.Device) {
	t.Helper()
	id := synctest.Onboard(t, c.client, c.https, c.company, filepath.Join(c.dir, "outbox"), serial)
	d := synctest.NewDevice(id.DeviceID, id.TLS.Clone())
	var mu sync.Mutex
	done := map[string]bool{}
	d.OnCommand(func(cmd wire.Command) {
		mu.Lock()
		again := done[cmd.ID]
		done[cmd.ID] = true
		mu.Unlock()
		if again {
			return
		}
		if cmd.Type == wire.CmdDisable {
			d.SetFinal(true)
			d.Punch(1, "E101")
			d.WaitAcked(20 * time.Second)
		}
		d.Answer(wire.CommandResult{ID: cmd.ID, OK: true, FinalSeq: d.HighSeq()})
	})
	d.Run(id.TLSURL())
	t.Cleanup(d.Close)
	await.True(t, 15*time.Second, d.Connected, "the clock never connected to %s", id.TLSURL())
	return id, d
}

// punchThenDisable is the life of a clock at the cloud: a punch is stored
// and listed, then a disable ends with the last transmission in and the
// certificate refused.
func punchThenDisable(t *testing.T, c *proc, serial string) {
	t.Helper()
	id, d := clockAgainst(t, c, serial)
	d.Punch(1, "E100")
	await.True(t, 10*time.Second, func() bool { return d.Pending() == 0 }, "the punch was never acked")
	var page punchPage
	if we := c.do("GET", "/api/v1/punches?device="+id.DeviceID, nil, &page); we != nil || len(page.Punches) != 1 {
		t.Fatalf("punches: %v %+v", we, page)
	}
	var row devRow
	if we := c.do("POST", "/api/v1/devices/"+id.DeviceID+"/disable", nil, &row); we != nil || row.Status != "disabling" {
		t.Fatalf("disable: %v %+v", we, row)
	}
	await.True(t, 20*time.Second, func() bool {
		c.do("GET", "/api/v1/devices/"+id.DeviceID, nil, &row)
		return row.Status == "disabled"
	}, "the clock was never disabled: %+v", row)
	if row.DisabledBy != "admin@demo.example" || row.LastTransmission != "received" {
		t.Fatalf("disabled row %+v", row)
	}
	if we := c.do("GET", "/api/v1/punches?device="+id.DeviceID, nil, &page); we != nil || len(page.Punches) != 2 || !page.Punches[1].Final {
		t.Fatalf("the last transmission: %v %+v", we, page)
	}
	await.True(t, 15*time.Second, func() bool {
		old := synctest.NewDevice(id.DeviceID, id.TLS.Clone())
		err := old.Connect(id.TLSURL())
		old.Close()
		return err != nil
	}, "the disabled clock's certificate still connects")
}

func TestDevCloudSyncsWithItsBroker(t *testing.T) {
	c := startDev(t, t.TempDir())
	m := endpointsRE.FindStringSubmatch(c.p.Output())
	if m == nil || m[3] != "embedded" || !strings.HasPrefix(m[1], "localhost:") {
		t.Fatalf("no embedded broker endpoints in the output:\n%s", c.p.Output())
	}
	// The TLS port speaks MQTT: a bare TCP probe (the clock's network
	// check) is a debug line, not an error.
	conn, err := net.Dial("tcp", strings.Replace(m[1], "localhost", "127.0.0.1", 1))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	punchThenDisable(t, c, "SIM-E2E")
	c.p.WaitOutput(t, "punches from ", 10*time.Second)
	c.stop()
	if strings.Contains(c.log(), "level=ERROR") {
		t.Errorf("errors in the log:\n%s", c.log())
	}
}

func TestMosquittoConfigAndExternalBroker(t *testing.T) {
	bin := daemontest.Build(t, pkg)
	mosq := mosquittotest.Bin(t)
	dir := t.TempDir()
	data, out := filepath.Join(dir, "cloud"), filepath.Join(dir, "mosquitto")
	tlsAddr, wsAddr := free(t), free(t)
	args := []string{"mosquitto-config", "--data", data, "--out", out, "--mqtt", tlsAddr, "--mqtt-ws", wsAddr, "--create-ca"}
	if os.Geteuid() == 0 {
		args = append(args, "--user", "root")
	}
	b, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || !strings.Contains(string(b), "mosquitto -c "+filepath.Join(out, "mosquitto.conf")) {
		t.Fatalf("mosquitto-config: %v\n%s", err, b)
	}
	broker := daemontest.Start(t, mosq, "-c", filepath.Join(out, "mosquitto.conf"))
	await.True(t, 10*time.Second, func() bool { return dials(tlsAddr) && dials(wsAddr) }, "mosquitto never listened:\n%s", broker.Output())

	_, port, _ := net.SplitHostPort(tlsAddr)
	c := startDev(t, data, "--mqtt-broker", "mqtts://localhost:"+port, "--mosquitto-dir", out,
		"--mosquitto-pid", filepath.Join(out, "mosquitto.pid"), "--mqtt", tlsAddr, "--mqtt-ws", wsAddr)
	if m := endpointsRE.FindStringSubmatch(c.p.Output()); m == nil || m[3] != "external" || m[1] != "localhost:"+port {
		t.Fatalf("external broker endpoints:\n%s", c.p.Output())
	}
	await.True(t, 15*time.Second, func() bool { return strings.Contains(c.log(), "mqtt broker disconnected -> connected") },
		"the cloud never connected to mosquitto:\n%s", broker.Output())
	punchThenDisable(t, c, "SIM-MOSQ")
	c.stop()
}

func free(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func dials(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
