package cloudsync_test

// The clock's sync end to end over loopback: the real timeclock-cloud (its
// embedded broker, or a real Mosquitto) and real timeclockd processes on
// the simulated board, driven through the control socket; what the cloud
// stored is read through its admin API. An external test package: these
// tests see the sync only as the processes do.

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/internal/await"
	"timeclock/internal/daemontest"
	"timeclock/internal/e2e"
)

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

const wait = e2e.Wait

var brokers = []string{"embedded", "mosquitto"}

func startCloud(t *testing.T, broker string) *e2e.Cloud {
	t.Helper()
	return e2e.StartCloud(t, e2e.CloudOptions{Mosquitto: broker == "mosquitto"})
}

// onboarded starts a clock in a new state directory, onboards it and
// waits until the cloud's roster is on it.
func onboarded(t *testing.T, c *e2e.Cloud) (*e2e.Clock, string) {
	t.Helper()
	k := e2e.StartClock(t, t.TempDir(), c, nil)
	id := k.Onboard(t, c)
	await.True(t, wait, func() bool { return c.Device(t, id).RosterVersion > 0 }, "the roster never reached the clock")
	return k, id
}

// swipe punches with a badge and waits for the accepted screen.
func swipe(k *e2e.Clock, badge, name string) {
	k.Sim.OK("badge %s", badge)
	k.Wait(name)
}

func cloudHas(t *testing.T, c *e2e.Cloud, dev string, n int) []e2e.Punch {
	t.Helper()
	var ps []e2e.Punch
	await.True(t, wait, func() bool { ps = c.Punches(t, dev); return len(ps) >= n }, "the cloud never had %d punches of %s", n, dev)
	if len(ps) != n {
		t.Fatalf("the cloud has %d punches, want %d", len(ps), n)
	}
	return ps
}

// TestOnlinePunch: a punch on an online clock is at the cloud at once, and
// the idle screen says Online with nothing pending.
func TestOnlinePunch(t *testing.T) {
	for _, b := range brokers {
		t.Run(b, func(t *testing.T) {
			c := startCloud(t, b)
			k, id := onboarded(t, c)
			k.Wait("Online")
			swipe(k, "10002", "Grace Hopper")
			ps := cloudHas(t, c, id, 1)
			if ps[0].Employee != "E101" || ps[0].Kind != "IN" || ps[0].Seq != 1 {
				t.Errorf("cloud has %+v", ps[0])
			}
			await.True(t, wait, func() bool { return k.Status()["pending"] == 0.0 }, "still pending: %v", k.Status())
			if st := k.Status(); st["cloud"] != "online" {
				t.Errorf("status %v", st)
			}
		})
	}
}

// prefill appends n punches to a stopped clock's journal, as if it had
// taken them offline.
func prefill(t *testing.T, dir string, n int) {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	j, err := journal.Open(st, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	t0 := time.Now().Add(-time.Hour).UTC()
	for i := 0; i < n; i += 1000 {
		ps := make([]journal.Punch, min(1000, n-i))
		for k := range ps {
			ps[k] = journal.Punch{Employee: fmt.Sprintf("E%d", 100+(i+k)%5), Name: "Worker", Kind: journal.KindIn,
				Time: t0.Add(time.Duration(i+k) * time.Millisecond), TZ: "America/Chicago", TZOffset: -6 * 3600, ClockSet: true}
		}
		if _, err := j.AppendBatch(ps); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOfflineAndBrokerRestarts: punches taken while the cloud is away go up
// once it is back; a backlog drains while the broker is restarted several
// times; the cloud ends with every punch exactly once.
func TestOfflineAndBrokerRestarts(t *testing.T) {
	for _, b := range brokers {
		t.Run(b, func(t *testing.T) {
			c := startCloud(t, b)
			k, id := onboarded(t, c)
			k.Wait("Online")

			// Offline: the broker is down, the punches wait.
			if c.Mosquitto != nil {
				c.Mosquitto.Stop(t)
			} else {
				c.Stop(t)
			}
			k.Wait("Offline")
			swipe(k, "10001", "Ada Lovelace")
			k.Keys("enter") // Ada picks her first department
			k.Wait("IN")
			swipe(k, "10003", "Alan Turing")
			k.Wait("2 pending")
			if c.Mosquitto != nil {
				c.Mosquitto.StartAgain(t)
			} else {
				c.Restart(t)
			}
			cloudHas(t, c, id, 2)
			k.Wait("Online")

			// A backlog, and the broker restarted during its drain.
			k.Stop(t)
			const n = 12000
			prefill(t, k.Dir, n)
			k = e2e.StartClock(t, k.Dir, c, nil)
			restarts := 0
			for i := 0; i < 3; i++ {
				var got int
				await.True(t, wait, func() bool {
					got = int(c.Device(t, id).Punches)
					return got > 2+i*n/10
				}, "the drain does not move: %d stored", got)
				if got >= n+2 {
					break
				}
				c.RestartBroker(t)
				restarts++
			}
			if restarts == 0 {
				t.Fatal("the backlog drained before the broker could be restarted once")
			}
			ps := cloudHas(t, c, id, n+2)
			seen := map[uint64]bool{}
			for _, p := range ps {
				if seen[p.Seq] {
					t.Fatalf("seq %d stored twice", p.Seq)
				}
				seen[p.Seq] = true
			}
			for s := uint64(1); s <= n+2; s++ {
				if !seen[s] {
					t.Fatalf("seq %d missing at the cloud", s)
				}
			}
			await.True(t, wait, func() bool { return k.Status()["pending"] == 0.0 }, "pending left: %v", k.Status())
			t.Logf("%d broker restarts during the drain of %d punches", restarts, n)
		})
	}
}

// TestWebSocketWhen59777Blocked: a clock whose MQTT TLS port swallows
// packets syncs over the secure WebSocket.
func TestWebSocketWhen59777Blocked(t *testing.T) {
	c := startCloud(t, "embedded")
	k, id := onboarded(t, c)
	k.Stop(t)
	// The cloud comes back with its TLS port elsewhere; the clock's port
	// (from activation) now answers nothing.
	blocked := c.Ports.MQTT
	c.Ports.MQTT = 0
	c.Restart(t)
	hole := e2e.Blackhole(t, blocked)
	k = e2e.StartClock(t, k.Dir, c, nil)
	k.Wait("Online")
	swipe(k, "10002", "Grace Hopper")
	cloudHas(t, c, id, 1)
	if !strings.Contains(k.Log(), "mqtt transport tls -> wss") {
		t.Error("the clock did not say it moved to the WebSocket")
	}
	if hole.Accepted() == 0 {
		t.Error("the clock never tried 59777")
	}
}

// oldCert reads the clock's client certificate and key while it has them.
func oldCert(t *testing.T, dir string) tls.Certificate {
	t.Helper()
	cert, err := os.ReadFile(filepath.Join(dir, "identity", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(dir, "identity", "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.X509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// connectAs tries an MQTT session over TLS with a certificate, as the
// device, and returns the error.
func connectAs(t *testing.T, c *e2e.Cloud, dev string, cert tls.Certificate) error {
	t.Helper()
	pem, err := os.ReadFile(c.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	o := paho.NewClientOptions().AddBroker(fmt.Sprintf("mqtts://localhost:%d", c.Ports.MQTT)).SetClientID(dev).
		SetTLSConfig(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}).SetProtocolVersion(4).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(10 * time.Second)
	cl := paho.NewClient(o)
	tok := cl.Connect()
	tok.Wait()
	if tok.Error() == nil {
		cl.Disconnect(0)
	}
	return tok.Error()
}

// TestDisableEndToEnd: disabled while online, or while offline with punches
// waiting, the clock sends its last transmission, the cloud records it
// (its final sequence number), the clock erases
// its credentials and says "Disabled by administrator", refuses punches,
// stays disabled across a restart, and the cloud refuses its old
// certificate. F4 sets it up again.
func TestDisableEndToEnd(t *testing.T) {
	for _, b := range brokers {
		for _, offline := range []bool{false, true} {
			name := b + "/online"
			if offline {
				name = b + "/offline"
			}
			t.Run(name, func(t *testing.T) {
				c := startCloud(t, b)
				k, id := onboarded(t, c)
				k.Wait("Online")
				swipe(k, "10002", "Grace Hopper")
				cert := oldCert(t, k.Dir)
				if offline {
					k.Stop(t) // the clock is away ...
					// ... and took punches while it could not reach the cloud.
					prefill(t, k.Dir, 500)
					var d e2e.Device
					if st := c.API(t, "POST", "/api/v1/devices/"+id+"/disable", struct{}{}, &d); st != 200 || d.Status != "disabling" {
						t.Fatalf("disable: %d %+v", st, d)
					}
					k = e2e.StartClock(t, k.Dir, c, nil)
				} else {
					swipe(k, "10003", "Alan Turing")
					if st := c.API(t, "POST", "/api/v1/devices/"+id+"/disable", struct{}{}, nil); st != 200 {
						t.Fatalf("disable: %d", st)
					}
				}
				want := 2
				if offline {
					want = 501
				}
				k.Wait("Disabled by")
				scr := k.Wait("F4: set up again")
				if !strings.Contains(scr, "administrator") {
					t.Errorf("screen:\n%s", scr)
				}
				d := await.Value(t, wait, func() (e2e.Device, bool) { d := c.Device(t, id); return d, d.Status == "disabled" }, "the cloud never saw the disable complete")
				if d.LastTransmission != "received" || d.FinalSeq != uint64(want) {
					t.Errorf("device row %+v, want the last transmission received with final seq %d", d, want)
				}
				cloudHas(t, c, id, want)
				// The credentials are gone from the clock; the cloud refuses them.
				if _, err := os.Stat(filepath.Join(k.Dir, "identity")); !os.IsNotExist(err) {
					t.Errorf("identity still on the clock: %v", err)
				}
				// Mosquitto applies the new CRL when it handles the cloud's
				// SIGHUP, a moment after the store says "disabled".
				err := await.Value(t, wait, func() (error, bool) { err := connectAs(t, c, id, cert); return err, err != nil },
					"the cloud accepts the disabled clock's certificate")
				if e := err.Error(); !strings.Contains(e, "not Authorized") && !strings.Contains(e, "certificate") &&
					!strings.Contains(e, "reset by peer") && !strings.Contains(e, "EOF") {
					// (Mosquitto, finding the certificate in its CRL, drops
					// the connection after the handshake: a reset or EOF.)
					t.Errorf("old certificate: %v, want a refusal", err)
				}
				// Punches are refused.
				k.Sim.OK("badge 10002")
				await.True(t, wait, func() bool { return k.Sim.OK("leds")["red"] == true }, "no red LED for a refused punch")
				st := k.Status()
				if st["state"] != "disabled" || st["pending"] != 0.0 {
					t.Errorf("status %v", st)
				}
				// Still disabled after a restart.
				k.Stop(t)
				k = e2e.StartClock(t, k.Dir, c, nil)
				k.Wait("F4: set up again")
				if offline {
					// The administrator enables it again (until then the cloud
					// refuses its onboarding: "Clock disabled"), and the
					// installer sets it up again.
					if st := c.API(t, "POST", "/api/v1/devices/"+id+"/enable", nil, nil); st != 200 {
						t.Fatalf("enable: HTTP %d", st)
					}
					k.Keys("f4")
					k.Wait("Set up again?")
					k.Keys("enter")
					// (The cloud knows the clock by its serial: it is
					// approved again under its device ID.)
					id2 := k.Onboard(t, c)
					await.True(t, wait, func() bool { d := c.Device(t, id2); return d.RosterVersion > 0 && d.Status == "approved" },
						"not approved with a roster after onboarding again: %+v", c.Device(t, id2))
					k.Wait("Online")
					swipe(k, "10004", "Katherine Johnson")
					if id2 == id {
						want++
					} else {
						want = 1
					}
					cloudHas(t, c, id2, want)
				}
			})
		}
	}
}

// TestCloudCommands: rename, timezone and a roster change made through the
// cloud's admin API reach the clock.
func TestCloudCommands(t *testing.T) {
	c := startCloud(t, "embedded")
	k, id := onboarded(t, c)
	k.Wait("Online")
	if st := c.API(t, "POST", "/api/v1/devices/"+id+"/rename", map[string]string{"nickname": "Loading dock"}, nil); st != 200 {
		t.Fatalf("rename: %d", st)
	}
	if st := c.API(t, "POST", "/api/v1/devices/"+id+"/commands", map[string]string{"type": "timezone", "timezone": "Asia/Kolkata"}, nil); st != 202 {
		t.Fatalf("timezone: %d", st)
	}
	await.True(t, wait, func() bool {
		st := k.Status()
		return st["nickname"] == "Loading dock" && st["timezone"] == "Asia/Kolkata"
	}, "status %v", k.Status())
	// The idle screen shows Kolkata time (UTC+5:30, so the minutes differ
	// from Chicago's and from UTC's).
	kol, _ := time.LoadLocation("Asia/Kolkata")
	await.True(t, wait, func() bool {
		scr := k.Sim.Screen()
		return strings.Contains(scr, time.Now().In(kol).Format("15:04"))
	}, "the screen does not show Kolkata time:\n%s", k.Sim.Screen())
	await.True(t, wait, func() bool { return c.Device(t, id).Nickname == "Loading dock" }, "the cloud's list keeps the old nickname")

	before := c.Device(t, id).RosterVersion
	var out map[string]any
	if st := c.API(t, "PATCH", "/api/v1/roster", map[string]any{"upsert": []map[string]any{
		{"id": "E200", "name": "Marie Curie", "badges": []string{"30001"}, "pin": "9876"}}}, &out); st != 200 {
		t.Fatalf("roster: %d %v", st, out)
	}
	await.True(t, wait, func() bool { return c.Device(t, id).RosterVersion > before }, "the roster change never reached the clock")
	swipe(k, "30001", "Marie Curie")
	// Her PIN (hashed by the cloud with the roster's salt) is hers too:
	// within the duplicate window it finds her and records nothing.
	k.Type("9876")
	k.Keys("enter")
	k.Wait("Already punched")
	k.Wait("Marie Curie")
	cloudHas(t, c, id, 1)
	// A reboot through the cloud: the clock answers, restarts itself (the
	// sim board execs itself) and comes back online, once.
	if st := c.API(t, "POST", "/api/v1/devices/"+id+"/commands", map[string]string{"type": "reboot"}, nil); st != 202 {
		t.Fatalf("reboot: %d", st)
	}
	await.True(t, wait, func() bool { return strings.Count(k.Log(), "rebooting at the cloud's request") == 1 }, "no reboot")
	// The sim clock execs itself: its control socket comes back.
	await.True(t, wait, func() bool { return strings.Count(k.Log(), "sim control socket") == 2 }, "the clock did not start again")
	k.Sim = daemontest.DialSim(t, k.Dir+"/sim.sock", wait)
	k.Wait("Online")
	swipe(k, "10002", "Grace Hopper")
	cloudHas(t, c, id, 2)
	if n := strings.Count(k.Log(), "rebooting at the cloud's request"); n != 1 {
		t.Errorf("rebooted %d times", n)
	}
}
