package cloudsync_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"timeclock/agent/cloudsync"
	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/clock"
	"timeclock/cloud/ingest"
	"timeclock/cloud/mosquitto/mosquittotest"
	"timeclock/cloud/pki"
	cloudstore "timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/internal/e2e"
	"timeclock/wire"
)

// BenchmarkDrain100k measures a clock with 100,000 punches buffered
// draining them to a real Mosquitto, with the cloud (--mqtt-broker) storing
// each batch and acknowledging it by ID: from the start of the timeclockd
// process to its status showing nothing pending (every punch acknowledged
// and moved to synced, fsynced).
//
// Its target compares it with the same store path without MQTT, measured
// in the same run on a copy of the same state file: in this process, with
// the same batches and the same number in flight, the clock's journal read
// and each batch encoded as the clock sends it, decoded and stored by the
// cloud's ingest (ingest.StoreBatch on a bbolt store, fsynced), the ack
// encoded, decoded and marked on the clock's journal (fsynced). The drain
// does all of that plus TLS, the broker, two processes and the start of
// timeclockd (its clock starts at exec).
//
// Informational: the drain's own batches, pre-encoded, published bare at
// QoS 1 to a second Mosquitto nobody reads: the broker's speed.
//
// One drain per run: the loop's other iterations are empty.
func BenchmarkDrain100k(b *testing.B) {
	const n = 100_000
	c, dir, id := pendingClock(b, benchClock, n, false)
	size, inFlight := cloudsync.DefaultConfig().BatchSize, cloudsync.DefaultConfig().InFlight
	payloads := batchPayloads(b, dir, size)
	copyDir := b.TempDir()
	copyFile(b, filepath.Join(dir, store.FileName), filepath.Join(copyDir, store.FileName))
	ca, err := pki.Load(c.Dir)
	if err != nil {
		b.Fatal(err)
	}
	raw := mosquittotest.Start(b, ca)

	var rate, storeRate, brokerRate float64
	done := false
	for b.Loop() {
		if done {
			continue
		}
		done = true
		storeRate = float64(n) / storePath(b, copyDir, size, inFlight).Seconds()
		brokerRate = float64(n) / baseline(b, ca, c.CAFile(), raw.TLSAddr, payloads).Seconds()
		start := time.Now()
		k := e2e.StartClock(b, dir, c, benchClock, "--log-level", "warn")
		waitDrained(b, k, start)
		rate = float64(n) / time.Since(start).Seconds()
	}
	if got := c.Device(b, id).Punches; got < n {
		b.Fatalf("the cloud stored %d punches, want %d", got, n)
	}
	b.ReportMetric(rate, "punches/s")
	b.ReportMetric(storeRate, "store-punches/s")
	b.ReportMetric(rate/storeRate, "ratio")
	b.ReportMetric(brokerRate, "broker-punches/s")
	b.ReportMetric(rate/brokerRate, "broker-ratio")
}

// BenchmarkDrainRSS samples the clock's resident memory every 10 ms while
// it drains 200,000 pending punches to the cloud (Mosquitto, as
// BenchmarkDrain100k) and then through a burst of 2,000 punches on the
// control socket while online, each waiting for its accepted screen and
// sent to the cloud at once. It reports the peaks: VmRSS (the target), and
// its anonymous and file-backed parts (the state file's mapped pages).
func BenchmarkDrainRSS(b *testing.B) {
	const n, burst = 200_000, 2000
	// Feedback long enough that the accepted screen is still up when
	// the wait for it arrives on a loaded machine (100 ms was missed); a
	// badge during feedback punches at once, so the burst does not wait it.
	cfg := map[string]any{"duplicate_window": "0s", "feedback_time": "2s", "capacity": 250_000}
	c, dir, id := pendingClock(b, cfg, n, true)
	var k *e2e.Clock
	var drain, burstPeak rssPeak
	var rate float64
	done := false
	for b.Loop() {
		if done {
			continue
		}
		done = true
		start := time.Now()
		k = e2e.StartClock(b, dir, c, cfg, "--log-level", "warn")
		stop := sampleRSS(b, k.P.Cmd.Process.Pid, &drain)
		waitDrained(b, k, start)
		rate = float64(n) / time.Since(start).Seconds()
		stop()
		k.Wait("Badge or PIN")
		stop = sampleRSS(b, k.P.Cmd.Process.Pid, &burstPeak)
		for i := range burst {
			k.Sim.OK("badge %s", []string{"10002", "10003"}[i%2])
			k.Wait([]string{"Grace Hopper", "Alan Turing"}[i%2])
		}
		waitDrained(b, k, time.Now())
		stop()
	}
	if got := c.Device(b, id).Punches; got < n+burst {
		b.Fatalf("the cloud stored %d punches, want %d", got, n+burst)
	}
	b.ReportMetric(drain.rss, "drain-rss-MiB")
	b.ReportMetric(drain.anon, "drain-anon-MiB")
	b.ReportMetric(drain.file, "drain-file-MiB")
	b.ReportMetric(float64(drain.samples), "drain-samples")
	b.ReportMetric(burstPeak.rss, "burst-rss-MiB")
	b.ReportMetric(burstPeak.anon, "burst-anon-MiB")
	b.ReportMetric(float64(burstPeak.samples), "burst-samples")
	b.ReportMetric(rate, "punches/s")
}

// waitDrained waits until the clock's status says idle with nothing
// pending.
func waitDrained(b *testing.B, k *e2e.Clock, start time.Time) {
	b.Helper()
	for {
		// (Before the journal is open, status says pending 0 too.)
		if st, err := k.Sim.Try("status"); err == nil && st["state"] == "idle" && st["pending"] == 0.0 {
			return
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("the drain did not end: %v", k.Status())
		}
		time.Sleep(time.Millisecond) // a benchmark's poll: the drain is what is timed
	}
}

// rssPeak is the highest resident memory seen, in MiB.
type rssPeak struct {
	rss, anon, file float64
	samples         int
}

// sampleRSS reads /proc/PID/status every 10 ms into peak until the
// returned stop is called. With BENCH_RSS_TRACE set it logs every 20th
// sample and every new peak.
func sampleRSS(b *testing.B, pid int, peak *rssPeak) (stop func()) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	quit, done := make(chan struct{}), make(chan struct{})
	read := func() {
		f, err := os.ReadFile(path)
		if err != nil {
			return // exited: the benchmark sees that
		}
		v := procStatus(f)
		if os.Getenv("BENCH_RSS_TRACE") != "" && (peak.samples%20 == 0 || v["VmRSS"] > peak.rss) {
			mark := ""
			if v["VmRSS"] > peak.rss {
				mark = " (peak so far)"
			}
			b.Logf("%5d rss %.1f anon %.1f file %.1f%s", peak.samples, v["VmRSS"], v["RssAnon"], v["RssFile"], mark)
		}
		peak.rss = max(peak.rss, v["VmRSS"])
		peak.anon = max(peak.anon, v["RssAnon"])
		peak.file = max(peak.file, v["RssFile"])
		peak.samples++
	}
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-quit:
				read()
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}

// procStatus parses the "Name:  N kB" lines of /proc/PID/status into MiB.
func procStatus(b []byte) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, v, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		f := bytes.Fields(v)
		if !ok || len(f) != 2 || string(f[1]) != "kB" {
			continue
		}
		if kb, err := strconv.ParseFloat(string(f[0]), 64); err == nil {
			out[string(name)] = kb / 1024
		}
	}
	return out
}

// storePath runs the drain's store path without MQTT on the clock state
// in dir (see BenchmarkDrain100k) and returns its time. It has the drain's
// shape: one goroutine is the clock (it keeps inFlight batches out and
// marks each ack on its journal, as the sync's one goroutine does), one is
// the cloud (it stores each batch and answers with its ack); channels stand
// in for the broker.
func storePath(b *testing.B, dir string, size, inFlight int) time.Duration {
	b.Helper()
	ctx := context.Background()
	cloud, err := boltstore.Open(filepath.Join(b.TempDir(), "cloud.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer cloud.Close()
	const dev = "bench-device"
	if err := cloud.Update(ctx, func(tx cloudstore.Tx) error {
		return tx.PutDevice(cloudstore.Device{ID: dev, CompanyID: "1", Serial: "S1", Status: cloudstore.DeviceApproved})
	}); err != nil {
		b.Fatal(err)
	}
	in := &ingest.Ingest{Deps: ingest.Deps{Store: cloud, Clock: clock.Real{}, Log: slog.New(slog.DiscardHandler)}}
	j, closeJ := benchJournal(b, dir, 1_000_000)
	defer closeJ()

	toCloud := make(chan []byte, inFlight)
	toClock := make(chan []byte, inFlight)
	cloudErr := make(chan error, 1)
	go func() { // the cloud
		defer close(toClock)
		for p := range toCloud {
			pb, err := wire.DecodePunchBatch(p)
			if err != nil {
				cloudErr <- err
				return
			}
			ack, _, err := in.StoreBatch(ctx, dev, pb)
			if err != nil {
				cloudErr <- err
				return
			}
			ack.Time = time.Now().UTC()
			payload, err := json.Marshal(ack)
			if err != nil {
				cloudErr <- err
				return
			}
			toClock <- payload
		}
	}()

	start := time.Now()
	var cursor, batch uint64
	out, more := 0, true
	for more || out > 0 {
		for more && out < inFlight { // the clock's fill
			ps, err := j.PendingAfter(cursor, size)
			if err != nil {
				b.Fatal(err)
			}
			if len(ps) == 0 {
				more = false
				break
			}
			batch++
			cursor = ps[len(ps)-1].Seq
			toCloud <- cloudsync.EncodeBatch(batch, ps, false)
			out++
		}
		if out == 0 {
			break
		}
		var payload []byte
		select {
		case payload = <-toClock:
		case err := <-cloudErr:
			b.Fatal(err)
		}
		out--
		a, err := wire.DecodeAck(payload) // the clock's side of the ack
		if err != nil {
			b.Fatal(err)
		}
		ids := make([]journal.ID, 0, len(a.IDs))
		for _, s := range a.IDs {
			id, err := journal.ParseID(s)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
		}
		if _, err := j.MarkAcked(ids, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	d := time.Since(start)
	close(toCloud)
	if p := j.Pending(); p != 0 {
		b.Fatalf("the store path left %d pending", p)
	}
	return d
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}
