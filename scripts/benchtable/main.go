// Command benchtable turns `go test -bench` output (and size lines the bench
// script adds in the same format) into the BENCHMARKS.md table: each row
// names what is measured, the result, the target and whether it is met.
//
//	go test -run '^$' -bench . ./... | go run ./scripts/benchtable
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// row is one line of the table: the metric (unit) of a benchmark.
type row struct {
	what   string
	bench  string // benchmark name without the -GOMAXPROCS suffix
	unit   string // the metric's unit as the benchmark reports it
	show   string // unit shown in the table
	scale  float64
	op     string // "<=", ">=" or "" (informational)
	target float64
}

var rows = []row{
	{what: "badge -> durable punch -> feedback screen, sim board (p50)", bench: "BenchmarkBadgeToFeedback", unit: "p50-ms", show: "ms", scale: 1},
	{what: "badge -> durable punch -> feedback screen, sim board (p99)", bench: "BenchmarkBadgeToFeedback", unit: "p99-ms", show: "ms", scale: 1, op: "<=", target: 25},
	{what: "durable punches, burst of 2,000 from 64 goroutines (group commit)", bench: "BenchmarkAppendBurst", unit: "punches/s", show: "/s", scale: 1, op: ">=", target: 2000},
	{what: "punch seen by the cloud while online: badge on the sim socket -> cloud API (p50)", bench: "BenchmarkPunchToCloud", unit: "p50-ms", show: "ms", scale: 1},
	{what: "punch seen by the cloud while online: badge on the sim socket -> cloud API (p99)", bench: "BenchmarkPunchToCloud", unit: "p99-ms", show: "ms", scale: 1, op: "<=", target: 1000},
	{what: "drain of 100,000 buffered punches to Mosquitto, cloud stores and acks", bench: "BenchmarkDrain100k", unit: "punches/s", show: "/s", scale: 1, op: ">=", target: 20000},
	{what: "raw publish baseline: the 100,000 punches as QoS 1 messages, one per punch, same Mosquitto, same run", bench: "BenchmarkDrain100k", unit: "baseline-punches/s", show: "/s", scale: 1},
	{what: "drain / raw publish baseline", bench: "BenchmarkDrain100k", unit: "ratio", show: "x", scale: 1, op: ">=", target: 0.5},
	{what: "bare broker speed: the drain's own 2,000-punch batches pre-encoded, QoS 1, same run", bench: "BenchmarkDrain100k", unit: "batch-baseline-punches/s", show: "/s", scale: 1},
	{what: "drain / bare broker speed (informational)", bench: "BenchmarkDrain100k", unit: "batch-ratio", show: "x", scale: 1},
	{what: "state file with 200,000 pending punches", bench: "BenchmarkPending200k", unit: "state-MiB", show: "MiB", scale: 1, op: "<=", target: 64},
	{what: "agent RSS with 200,000 pending punches", bench: "BenchmarkPending200k", unit: "rss-MiB", show: "MiB", scale: 1, op: "<=", target: 30},
	{what: "agent idle online at the idle screen: CPU", bench: "BenchmarkIdleOnline", unit: "cpu-%", show: "% of a core", scale: 1, op: "<=", target: 1},
	{what: "agent idle online at the idle screen: RSS", bench: "BenchmarkIdleOnline", unit: "rss-MiB", show: "MiB", scale: 1, op: "<=", target: 25},
	{what: "stripped agent binary, linux/arm GOARM=6", bench: "BenchmarkBinarySize/armv6", unit: "bytes", show: "MiB", scale: 1.0 / (1 << 20), op: "<=", target: 10},
	{what: "stripped agent binary, linux/arm GOARM=7", bench: "BenchmarkBinarySize/armv7", unit: "bytes", show: "MiB", scale: 1.0 / (1 << 20), op: "<=", target: 10},
	{what: "stripped agent binary, linux/arm64", bench: "BenchmarkBinarySize/arm64", unit: "bytes", show: "MiB", scale: 1.0 / (1 << 20), op: "<=", target: 10},
	{what: "matrix keypad idle: CPU of the whole test process", bench: "BenchmarkKeypadIdleCPU", unit: "cpu-%", show: "% of a core", scale: 1, op: "<=", target: 1},
	{what: "matrix keypad idle: matrix scans", bench: "BenchmarkKeypadIdleCPU", unit: "scans/s", show: "/s", scale: 1, op: "<=", target: 0},
	{what: "start to idle screen, sim board (p50)", bench: "BenchmarkStartToIdle", unit: "p50-ms", show: "ms", scale: 1},
	{what: "start to idle screen, sim board (p99)", bench: "BenchmarkStartToIdle", unit: "p99-ms", show: "ms", scale: 1, op: "<=", target: 500},
	{what: "start to idle screen, onboarded clock (p50)", bench: "BenchmarkStartToIdleOnboarded", unit: "p50-ms", show: "ms", scale: 1},
	{what: "start to idle screen, onboarded clock (p99)", bench: "BenchmarkStartToIdleOnboarded", unit: "p99-ms", show: "ms", scale: 1, op: "<=", target: 500},
	{what: "activation on the clock: key, CSR, passcode hash, identity files", bench: "BenchmarkActivationSave", unit: "ns/op", show: "ms", scale: 1e-6},
	{what: "cloud: activation through the API handler (p50)", bench: "BenchmarkActivation", unit: "p50-ms", show: "ms", scale: 1},
	{what: "cloud: activation through the API handler (p99)", bench: "BenchmarkActivation", unit: "p99-ms", show: "ms", scale: 1},
	{what: "cloud: punch from an online simulated clock until its ack is back, embedded broker (p50)", bench: "BenchmarkCloudPunchAcked/embedded", unit: "p50-ms", show: "ms", scale: 1},
	{what: "cloud: punch from an online simulated clock until its ack is back, embedded broker (p99)", bench: "BenchmarkCloudPunchAcked/embedded", unit: "p99-ms", show: "ms", scale: 1, op: "<=", target: 1000},
	{what: "cloud: punch from an online simulated clock until its ack is back, Mosquitto (p50)", bench: "BenchmarkCloudPunchAcked/mosquitto", unit: "p50-ms", show: "ms", scale: 1},
	{what: "cloud: punch from an online simulated clock until its ack is back, Mosquitto (p99)", bench: "BenchmarkCloudPunchAcked/mosquitto", unit: "p99-ms", show: "ms", scale: 1, op: "<=", target: 1000},
	{what: "cloud: ingest of 100,000 punches buffered on a simulated clock, through Mosquitto, stored and acked", bench: "BenchmarkCloudIngestMosquitto", unit: "punches/s", show: "/s", scale: 1, op: ">=", target: 20000},
	{what: "cloud: raw QoS 1 publish of the same 500-punch batches to Mosquitto (baseline, same run)", bench: "BenchmarkCloudIngestMosquitto", unit: "raw-punches/s", show: "/s", scale: 1},
	{what: "cloud: ingest / raw publish baseline", bench: "BenchmarkCloudIngestMosquitto", unit: "ratio", show: "x", scale: 1},
	{what: "console passcode check, bcrypt cost 10 (CPU per login attempt)", bench: "BenchmarkVerify", unit: "ms/check", show: "ms", scale: 1},
	{what: "20x4 LCD: I2C bytes for a full-screen update", bench: "BenchmarkLCDBytes", unit: "bytes/full", show: "bytes", scale: 1},
	{what: "20x4 LCD: I2C bytes for a one-line change", bench: "BenchmarkLCDBytes", unit: "bytes/line", show: "bytes", scale: 1, op: "<=", target: 100},
	{what: "20x4 LCD: I2C bytes for the idle screen's minute tick", bench: "BenchmarkLCDBytes", unit: "bytes/tick", show: "bytes", scale: 1, op: "<=", target: 16},
}

var suffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark result lines into bench -> unit -> value.
func parse(r io.Reader) map[string]map[string]float64 {
	res := map[string]map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := suffix.ReplaceAllString(f[0], "")
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		if res[name] == nil {
			res[name] = map[string]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				res[name][f[i+1]] = v
			}
		}
	}
	return res
}

func format(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func table(res map[string]map[string]float64, w io.Writer) (failed int) {
	fmt.Fprintln(w, "| what | result | target | met |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range rows {
		v, ok := res[r.bench][r.unit]
		result, target, met := "not run", "", ""
		if r.op != "" {
			target = r.op + " " + format(r.target) + " " + r.show
		}
		if ok {
			v *= r.scale
			result = format(v) + " " + r.show
			switch {
			case r.op == "<=" && v <= r.target, r.op == ">=" && v >= r.target:
				met = "yes"
			case r.op != "":
				met = "**no**"
				failed++
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.what, result, target, met)
	}
	return failed
}

func main() {
	if failed := table(parse(os.Stdin), os.Stdout); failed > 0 {
		fmt.Fprintf(os.Stderr, "benchtable: %d targets not met\n", failed)
	}
}
