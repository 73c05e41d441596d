// Package e2e tests the clock's sync end to end over loopback: the real
// timeclock-cloud (its embedded broker, or a real Mosquitto) and real
// timeclockd processes on the simulated board, driven through the control
// socket; what the cloud stored is read through its admin API.
package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

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
	await.True(t, wait, func() bool { ps = c.Punches(t, dev); return len(ps) >= n }, "the cloud has %d punches of %s, want %d", len(ps), dev, n)
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
				Time: t0.Add(time.Duration(i+k) * time.Millisecond), TZ: "America/Chicago", TZOffset: -6 * 3600, ClockSynced: true}
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
			t0 := time.Now()
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
				t.Logf("%v: %d stored; restarting", time.Since(t0), got)
				c.RestartBroker(t)
				t.Logf("%v: restarted", time.Since(t0))
				restarts++
			}
			if restarts == 0 {
				t.Fatal("the backlog drained before the broker could be restarted once")
			}
			await.True(t, wait, func() bool { return c.Device(t, id).Punches >= n+2 }, "not all stored")
			t.Logf("%v: all stored", time.Since(t0))
			ps := cloudHas(t, c, id, n+2)
			t.Logf("%v: listed", time.Since(t0))
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
