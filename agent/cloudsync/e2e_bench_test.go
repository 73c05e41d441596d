package cloudsync_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"timeclock/agent/cloudsync"
	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/cloud/pki"
	"timeclock/internal/e2e"
	"timeclock/internal/latency"
	"timeclock/wire"
)

// benchClock is the clock config of the benchmarks: every badge is a punch
// (no duplicate window), feedback short, the production sync tuning.
var benchClock = map[string]any{"duplicate_window": "0s", "feedback_time": "100ms"}

// BenchmarkPunchToCloud measures a punch on an online clock until the
// cloud has it: from "badge N" on the sim control socket of a real
// timeclockd to the cloud's admin API (GET /api/v1/devices/{id}, polled
// every millisecond) counting it stored. The clock records the punch
// (fsync), signals the sync, which publishes it at once; the cloud's
// embedded broker hands it to the ingest, which stores it (fsync). Each
// iteration is 10 punches.
func BenchmarkPunchToCloud(b *testing.B) {
	c := e2e.StartCloud(b, e2e.CloudOptions{})
	k := e2e.StartClock(b, b.TempDir(), c, benchClock, "--log-level", "warn")
	id := k.Onboard(b, c)
	for c.Device(b, id).RosterVersion == 0 {
		time.Sleep(time.Millisecond) // a benchmark's setup; tests wait with await
	}
	k.Wait("Online")
	badges := []string{"10002", "10003", "10004"}
	var rec latency.Recorder
	stored := c.Device(b, id).Punches
	n := 0
	for b.Loop() {
		for range 10 {
			start := time.Now()
			k.Sim.OK("badge %s", badges[n%len(badges)])
			n++
			deadline := start.Add(e2e.Wait)
			for c.Device(b, id).Punches <= stored {
				if time.Now().After(deadline) {
					b.Fatalf("punch %d never reached the cloud", n)
				}
				time.Sleep(time.Millisecond)
			}
			rec.Add(time.Since(start))
			stored++
		}
	}
	rec.Report(b)
}

// pendingClock is the drain benchmarks' set-up: a cloud with Mosquitto, a
// clock onboarded to it (with its roster stored, when roster is set), then
// stopped with n punches put in its journal. The benchmark starts the clock
// again on dir.
func pendingClock(b *testing.B, cfg map[string]any, n int, roster bool) (c *e2e.Cloud, dir, id string) {
	b.Helper()
	c = e2e.StartCloud(b, e2e.CloudOptions{Mosquitto: true})
	dir = b.TempDir()
	k := e2e.StartClock(b, dir, c, cfg, "--log-level", "warn")
	id = k.Onboard(b, c)
	for roster && c.Device(b, id).RosterVersion == 0 {
		time.Sleep(time.Millisecond) // a benchmark's setup; tests wait with await
	}
	k.Wait("Online")
	k.Stop(b)
	prefillBench(b, dir, n)
	return c, dir, id
}

// benchJournal opens the journal of a stopped clock's state dir; close
// closes it and its store.
func benchJournal(b *testing.B, dir string, capacity int) (j *journal.Journal, close func()) {
	b.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	j, err = journal.Open(st, journal.Options{Capacity: capacity})
	if err != nil {
		st.Close()
		b.Fatal(err)
	}
	return j, func() { j.Close(); st.Close() }
}

// prefillBench puts n punches in a stopped clock's journal.
func prefillBench(b *testing.B, dir string, n int) {
	b.Helper()
	j, closeJ := benchJournal(b, dir, 2*n)
	defer closeJ()
	t0 := time.Now().Add(-24 * time.Hour).UTC()
	for i := 0; i < n; i += 1000 {
		ps := make([]journal.Punch, min(1000, n-i))
		for k := range ps {
			ps[k] = journal.Punch{Employee: fmt.Sprintf("E%d", 100+(i+k)%5), Name: "Worker Name", Kind: journal.KindIn,
				Department: "Assembly", Time: t0.Add(time.Duration(i+k) * time.Second), TZ: "America/Chicago", TZOffset: -6 * 3600, ClockSet: true}
		}
		if _, err := j.AppendBatch(ps); err != nil {
			b.Fatal(err)
		}
	}
}

// batchPayloads encodes the pending punches as the clock sends them.
func batchPayloads(b *testing.B, dir string, size int) [][]byte {
	b.Helper()
	j, closeJ := benchJournal(b, dir, 1_000_000)
	defer closeJ()
	var out [][]byte
	var after uint64
	for {
		ps, err := j.PendingAfter(after, size)
		if err != nil {
			b.Fatal(err)
		}
		if len(ps) == 0 {
			return out
		}
		out = append(out, cloudsync.EncodeBatch(uint64(len(out)+1), ps, false))
		after = ps[len(ps)-1].Seq
	}
}

// baseline publishes the payloads at QoS 1 to the Mosquitto at addr and
// returns the time until the last PUBACK. It is a client of its own
// ("bench-baseline", a certificate from the cloud's CA) writing to its own
// punches topic, as the ACL allows: no cloud, no ack, no store.
func baseline(b *testing.B, ca *pki.CA, caFile, addr string, payloads [][]byte) time.Duration {
	b.Helper()
	certPEM, keyPEM, err := ca.IssueClient("bench-baseline", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		b.Fatal(err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		b.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	o := paho.NewClientOptions().AddBroker("mqtts://localhost:" + addr[strings.LastIndex(addr, ":")+1:]).SetClientID("bench-baseline").
		SetTLSConfig(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}).SetProtocolVersion(4).
		SetAutoReconnect(false).SetConnectTimeout(10 * time.Second).SetStore(paho.NewMemoryStore())
	cl := paho.NewClient(o)
	if tok := cl.Connect(); tok.Wait() && tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	defer cl.Disconnect(100)
	start := time.Now()
	toks := make([]paho.Token, len(payloads))
	for i, p := range payloads {
		toks[i] = cl.Publish(wire.Topic("bench-baseline", wire.TopicPunches), 1, false, p)
	}
	for _, t := range toks {
		if t.Wait(); t.Error() != nil {
			b.Fatal(t.Error())
		}
	}
	return time.Since(start)
}

// BenchmarkIdleOnline measures an onboarded clock idling online: a real
// timeclockd on the sim board, connected to the cloud (embedded broker),
// at the idle screen with nobody punching. Each iteration is 4 s of wall
// time (make bench's 20 iterations: 80 s, so the minute tick, the 60 s
// check-in and the 30 s MQTT keepalive all fall inside); the result is the
// process's CPU time (user + system, from /proc) per wall second and its
// resident memory (VmRSS) at the end.
func BenchmarkIdleOnline(b *testing.B) {
	c := e2e.StartCloud(b, e2e.CloudOptions{})
	k := e2e.StartClock(b, b.TempDir(), c, benchClock, "--log-level", "warn")
	k.Onboard(b, c)
	k.Wait("Online")
	cpu0, wall0 := k.P.CPU(b), time.Now()
	for b.Loop() {
		time.Sleep(4 * time.Second) // the measurement is of idling
	}
	cpu, wall := k.P.CPU(b)-cpu0, time.Since(wall0)
	if scr := k.Sim.Screen(); !strings.Contains(scr, "Badge or PIN") {
		b.Fatalf("the clock left the idle screen:\n%s", scr)
	}
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
	b.ReportMetric(float64(k.P.RSS(b))/(1<<20), "rss-MiB")
}
