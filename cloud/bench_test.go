package cloud

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"timeclock/cloud/bus"
	"timeclock/cloud/mosquitto"
	"timeclock/cloud/pki"
	"timeclock/cloud/synctest"
	"timeclock/internal/latency"
	"timeclock/wire"
)

// BenchmarkCloudIngestMosquitto drains 100,000 punches buffered on a
// simulated clock through a real Mosquitto into the cloud (each batch
// stored, fsynced and acked) and, in the same run, the raw baseline: the
// same batches published with QoS 1 to a topic nobody reads, waiting for
// the broker's PUBACKs only.
func BenchmarkCloudIngestMosquitto(b *testing.B) {
	const punches = 100_000
	c := startCloud(b, "mosquitto")
	id := c.onboard("SIM-BENCH")
	// The baseline's own identity, allowed to write bench/# only.
	ca, err := pki.Load(c.dir)
	if err != nil {
		b.Fatal(err)
	}
	tcfg, _ := synctest.Issue(b, ca, "bench-raw")
	acl := filepath.Join(c.mosq.Dir, mosquitto.ACLFile)
	old, _ := os.ReadFile(acl)
	if err := os.WriteFile(acl, append(old, "\nuser bench-raw\ntopic write bench/#\n"...), 0o644); err != nil {
		b.Fatal(err)
	}
	pid, _ := os.ReadFile(c.mosq.PIDFile())
	n, _ := strconv.Atoi(strings.TrimSpace(string(pid)))
	syscall.Kill(n, syscall.SIGHUP)
	rawc := paho.NewClient(paho.NewClientOptions().AddBroker(c.mosq.TLSURL()).SetClientID("bench-raw").
		SetTLSConfig(tcfg).SetStore(bus.NoStore{}).SetCleanSession(true))
	if tok := rawc.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatalf("raw client: %v", tok.Error())
	}
	defer rawc.Disconnect(100)
	var drain, raw time.Duration
	for b.Loop() {
		d := synctest.NewDevice(id.DeviceID, id.TLS.Clone())
		d.ResendAfter = time.Minute // a clean drain: nothing needs sending twice
		d.BatchSize = 500
		ps := d.Punch(punches, "E100")
		start := time.Now()
		d.Run(id.TLSURL())
		if !d.WaitAcked(5 * time.Minute) {
			b.Fatalf("%d punches still pending", d.Pending())
		}
		drain += time.Since(start)
		d.Close()

		var batches [][]byte
		for len(ps) > 0 {
			k := min(len(ps), d.BatchSize)
			p, _ := json.Marshal(wire.PunchBatch{Batch: 1, Punches: ps[:k]})
			batches = append(batches, p)
			ps = ps[k:]
		}
		start = time.Now()
		toks := make([]paho.Token, len(batches))
		for i, p := range batches {
			toks[i] = rawc.Publish("bench/raw", 1, false, p)
		}
		for _, t := range toks {
			if !t.WaitTimeout(time.Minute) || t.Error() != nil {
				b.Fatalf("raw publish: %v", t.Error())
			}
		}
		raw += time.Since(start)
	}
	k := float64(b.N)
	b.ReportMetric(punches*k/drain.Seconds(), "punches/s")
	b.ReportMetric(punches*k/raw.Seconds(), "raw-punches/s")
	b.ReportMetric(raw.Seconds()/drain.Seconds(), "ratio")
}

// BenchmarkCloudPunchAcked is one punch from an online simulated clock
// until the cloud's ack is back at the clock (stored and fsynced before
// that), per broker.
func BenchmarkCloudPunchAcked(b *testing.B) {
	for _, kind := range brokers {
		b.Run(kind, func(b *testing.B) {
			c := startCloud(b, kind)
			id := c.onboard("SIM-LAT")
			d := synctest.NewDevice(id.DeviceID, id.TLS.Clone())
			d.ResendAfter = time.Minute
			d.Run(id.TLSURL())
			defer d.Close()
			if !d.WaitAcked(time.Minute) {
				b.Fatal("not connected")
			}
			var rec latency.Recorder
			for b.Loop() {
				start := time.Now()
				d.Punch(1, "E100")
				if !d.WaitAcked(10 * time.Second) {
					b.Fatal("no ack in 10 s")
				}
				rec.Add(time.Since(start))
			}
			rec.Report(b)
		})
	}
}
