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

// row is one line of the table: the metric (unit) of a benchmark, or, when
// den is set, the ratio of two metrics measured in the same run.
type row struct {
	what   string
	bench  string // benchmark name without the -GOMAXPROCS suffix
	unit   string // the metric's unit as the benchmark reports it
	show   string // unit shown in the table
	scale  float64
	op     string // "<=", ">=" or "" (informational)
	target float64
	den    *metric // a ratio row: bench/unit divided by den
}

// metric names one reported number.
type metric struct{ bench, unit string }

// minSamples is the fewest durations a p99 may rest on (DESIGN.md).
const minSamples = 200

// qemu is the suffix scripts/bench.sh gives the benchmarks it runs a
// second time with the GOARM=7 timeclockd under qemu-arm.
const qemu = "@qemu-arm"

const mib = 1.0 / (1 << 20)

var rows = []row{
	// The clock, on this machine's disk.
	{what: "badge -> durable punch -> feedback screen, sim board (p50)", bench: "BenchmarkBadgeToFeedback", unit: "p50-ms", show: "ms", scale: 1},
	{what: "badge -> durable punch -> feedback screen, sim board (p99)", bench: "BenchmarkBadgeToFeedback", unit: "p99-ms", show: "ms", scale: 1, op: "<=", target: 25},
	{what: "badge -> feedback p99 / one durable commit's p99, same disk, same run", bench: "BenchmarkBadgeToFeedback", unit: "p99-ms", den: &metric{"BenchmarkSerialPunches", "commit-p99-ms"}, show: "x", scale: 1, op: "<=", target: 3},
	{what: "serial punches through the daemon, each waiting for its accepted screen", bench: "BenchmarkSerialPunches", unit: "punches/s", show: "/s", scale: 1},
	{what: "serial durable commits (journal appends, one at a time), same disk, same run", bench: "BenchmarkSerialPunches", unit: "commits/s", show: "/s", scale: 1},
	{what: "one durable commit on this disk (p99)", bench: "BenchmarkSerialPunches", unit: "commit-p99-ms", show: "ms", scale: 1},
	{what: "serial punches / serial commits", bench: "BenchmarkSerialPunches", unit: "ratio", show: "x", scale: 1, op: ">=", target: 0.8},
	{what: "serial punch through the daemon, badge to accepted screen (p50)", bench: "BenchmarkSerialPunches", unit: "punch-p50-ms", show: "ms", scale: 1},
	{what: "one durable commit, same run (p50)", bench: "BenchmarkSerialPunches", unit: "commit-p50-ms", show: "ms", scale: 1},
	{what: "the floor: the same client against a server that only appends (no daemon), punches / commits, same run (informational)", bench: "BenchmarkSerialFloor", unit: "ratio", show: "x", scale: 1},
	{what: "the floor: badge to answer (p50), same run as its commits", bench: "BenchmarkSerialFloor", unit: "punch-p50-ms", show: "ms", scale: 1},
	{what: "the floor's commit (p50)", bench: "BenchmarkSerialFloor", unit: "commit-p50-ms", show: "ms", scale: 1},
	{what: "durable punches, burst of 2,000 from 64 goroutines (group commit)", bench: "BenchmarkAppendBurst", unit: "punches/s", show: "/s", scale: 1, op: ">=", target: 2000},
	{what: "punch seen by the cloud while online: badge on the sim socket -> cloud API (p50)", bench: "BenchmarkPunchToCloud", unit: "p50-ms", show: "ms", scale: 1},
	{what: "punch seen by the cloud while online: badge on the sim socket -> cloud API (p99)", bench: "BenchmarkPunchToCloud", unit: "p99-ms", show: "ms", scale: 1, op: "<", target: 100},
	{what: "drain of 100,000 buffered punches through Mosquitto, cloud stores and acks", bench: "BenchmarkDrain100k", unit: "punches/s", show: "/s", scale: 1, op: ">=", target: 20000},
	{what: "the same store path without MQTT: the same batches read, encoded, ingested by the cloud in process, acked and marked on the clock, same run", bench: "BenchmarkDrain100k", unit: "store-punches/s", show: "/s", scale: 1},
	{what: "drain / the same store path without MQTT", bench: "BenchmarkDrain100k", unit: "ratio", show: "x", scale: 1, op: ">=", target: 0.5},
	{what: "bare broker speed: the drain's own batches pre-encoded, QoS 1, nobody reading, same run (informational)", bench: "BenchmarkDrain100k", unit: "broker-punches/s", show: "/s", scale: 1},
	{what: "drain / bare broker speed (informational)", bench: "BenchmarkDrain100k", unit: "broker-ratio", show: "x", scale: 1},
	{what: "agent RSS peak, sampled every 10 ms while draining 200,000 pending punches", bench: "BenchmarkDrainRSS", unit: "drain-rss-MiB", show: "MiB", scale: 1, op: "<=", target: 30},
	{what: "agent RSS peak, sampled every 10 ms through a burst of 2,000 punches on the control socket", bench: "BenchmarkDrainRSS", unit: "burst-rss-MiB", show: "MiB", scale: 1, op: "<=", target: 30},
	{what: "drain of 200,000 (the RSS run)", bench: "BenchmarkDrainRSS", unit: "punches/s", show: "/s", scale: 1},
	{what: "state file with 200,000 pending punches", bench: "BenchmarkPending200k", unit: "state-MiB", show: "MiB", scale: 1, op: "<=", target: 64},
	{what: "agent RSS idle with 200,000 pending punches", bench: "BenchmarkPending200k", unit: "rss-MiB", show: "MiB", scale: 1, op: "<=", target: 25},
	{what: "agent idle online at the idle screen: CPU", bench: "BenchmarkIdleOnline", unit: "cpu-%", show: "% of a core", scale: 1, op: "<=", target: 1},
	{what: "agent idle online at the idle screen: RSS", bench: "BenchmarkIdleOnline", unit: "rss-MiB", show: "MiB", scale: 1, op: "<=", target: 25},
	{what: "stripped agent binary, linux/arm GOARM=7", bench: "BenchmarkBinarySize/armv7", unit: "bytes", show: "MiB", scale: mib, op: "<=", target: 8},
	{what: "stripped agent binary, linux/arm GOARM=6", bench: "BenchmarkBinarySize/armv6", unit: "bytes", show: "MiB", scale: mib},
	{what: "stripped agent binary, linux/arm64", bench: "BenchmarkBinarySize/arm64", unit: "bytes", show: "MiB", scale: mib},
	{what: "matrix keypad idle: CPU of the whole test process", bench: "BenchmarkKeypadIdleCPU", unit: "cpu-%", show: "% of a core", scale: 1, op: "<=", target: 1},
	{what: "matrix keypad idle: matrix scans", bench: "BenchmarkKeypadIdleCPU", unit: "scans/s", show: "/s", scale: 1, op: "<=", target: 0},
	{what: "start to idle screen, sim board (p50)", bench: "BenchmarkStartToIdle", unit: "p50-ms", show: "ms", scale: 1},
	{what: "start to idle screen, sim board (p99)", bench: "BenchmarkStartToIdle", unit: "p99-ms", show: "ms", scale: 1, op: "<=", target: 500},
	{what: "start to idle screen, onboarded clock (p50)", bench: "BenchmarkStartToIdleOnboarded", unit: "p50-ms", show: "ms", scale: 1},
	{what: "start to idle screen, onboarded clock (p99)", bench: "BenchmarkStartToIdleOnboarded", unit: "p99-ms", show: "ms", scale: 1, op: "<=", target: 500},
	{what: "start to idle screen, 200,000 punches pending, the open's full check included (p50 of 20)", bench: "BenchmarkStartToIdle200k", unit: "p50-ms", show: "ms", scale: 1},

	// The same device rows with the GOARM=7 timeclockd under qemu-arm
	// (user-mode emulation on this machine: a relative cost, not an ARM
	// board's speed).
	{what: "qemu-arm: start to idle screen, sim board (p50)", bench: "BenchmarkStartToIdle" + qemu, unit: "p50-ms", show: "ms", scale: 1},
	{what: "qemu-arm: start to idle screen, sim board (p99)", bench: "BenchmarkStartToIdle" + qemu, unit: "p99-ms", show: "ms", scale: 1, op: "<=", target: 500},
	{what: "qemu-arm: start to idle p99 / the host build's", bench: "BenchmarkStartToIdle" + qemu, unit: "p99-ms", den: &metric{"BenchmarkStartToIdle", "p99-ms"}, show: "x", scale: 1},
	{what: "qemu-arm: badge -> durable punch -> feedback screen (p50)", bench: "BenchmarkBadgeToFeedback" + qemu, unit: "p50-ms", show: "ms", scale: 1},
	{what: "qemu-arm: badge -> durable punch -> feedback screen (p99)", bench: "BenchmarkBadgeToFeedback" + qemu, unit: "p99-ms", show: "ms", scale: 1},
	{what: "qemu-arm: badge -> feedback p99 / the host build's", bench: "BenchmarkBadgeToFeedback" + qemu, unit: "p99-ms", den: &metric{"BenchmarkBadgeToFeedback", "p99-ms"}, show: "x", scale: 1},
	{what: "qemu-arm: serial punches through the daemon", bench: "BenchmarkSerialPunches" + qemu, unit: "punches/s", show: "/s", scale: 1},
	{what: "qemu-arm: serial punches / serial commits (the commits by the host test)", bench: "BenchmarkSerialPunches" + qemu, unit: "ratio", show: "x", scale: 1},
	{what: "qemu-arm: durable punches, burst of 2,000 from 64 goroutines", bench: "BenchmarkAppendBurst" + qemu, unit: "punches/s", show: "/s", scale: 1},
	{what: "qemu-arm: burst / the host build's", bench: "BenchmarkAppendBurst" + qemu, unit: "punches/s", den: &metric{"BenchmarkAppendBurst", "punches/s"}, show: "x", scale: 1},

	// The slow-disk model: the booted-VM tier with the state disk's flushes
	// held one 4 ms tick (dm-delay), so an fsync costs about what the issue
	// says (its own row shows what it cost). The target row is timed in the
	// guest, on the agent's own sim socket, like the host row; the same
	// punches swiped across qemu's user network from the host are shown
	// beside it.
	{what: "slow disk (booted VM): badge -> durable punch -> feedback, client in the guest (p50)", bench: "BenchmarkSlowDiskPunch", unit: "p50-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM): badge -> durable punch -> feedback, client in the guest (p99)", bench: "BenchmarkSlowDiskPunch", unit: "p99-ms", show: "ms", scale: 1, op: "<", target: 25},
	{what: "slow disk (booted VM): the same, swiped from the host across qemu's user network (p50, informational)", bench: "BenchmarkSlowDiskPunch", unit: "slirp-p50-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM): the same, swiped from the host across qemu's user network (p99, informational)", bench: "BenchmarkSlowDiskPunch", unit: "slirp-p99-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM): the same VM, disk and agent with no delay, client in the guest, the TCG floor (p50)", bench: "BenchmarkSlowDiskPunch", unit: "nodelay-p50-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM): the same VM, disk and agent with no delay, client in the guest, the TCG floor (p99)", bench: "BenchmarkSlowDiskPunch", unit: "nodelay-p99-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM): one control socket round trip in the guest (a punch's client makes two; p50)", bench: "BenchmarkSlowDiskPunch", unit: "rtt-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM): p50 with the delay / p50 with none", bench: "BenchmarkSlowDiskPunch", unit: "p50-ms", den: &metric{"BenchmarkSlowDiskPunch", "nodelay-p50-ms"}, show: "x", scale: 1},
	{what: "slow disk (booted VM): 4 KiB write + fdatasync, timed in the guest: the model as the agent sees it (p50)", bench: "BenchmarkSlowDiskPunch", unit: "fsync-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM): the same with no delay (p50)", bench: "BenchmarkSlowDiskPunch", unit: "nodelay-fsync-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM): one journal append (a bbolt commit, two fdatasyncs), timed in the guest (p50)", bench: "BenchmarkSlowDiskPunch", unit: "commit-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM): the same with no delay (p50)", bench: "BenchmarkSlowDiskPunch", unit: "nodelay-commit-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM): page writes per bbolt commit (bbolt's count, the meta page's included)", bench: "BenchmarkSlowDiskPunch", unit: "pages/commit", show: "pages", scale: 1},
	{what: "slow disk (booted VM): a commit's data pages written + fdatasync, timed apart in the guest (p50)", bench: "BenchmarkSlowDiskPunch", unit: "data-sync-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM): a commit's meta page written + fdatasync, timed apart in the guest (p50)", bench: "BenchmarkSlowDiskPunch", unit: "meta-sync-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM): write requests reaching the delayed device per punch", bench: "BenchmarkSlowDiskPunch", unit: "writes/punch", show: "/punch", scale: 1},
	{what: "slow disk (booted VM): flush requests per punch (counted on the virtio disk below: dm does not count them)", bench: "BenchmarkSlowDiskPunch", unit: "flushes/punch", show: "/punch", scale: 1},
	{what: "slow disk (booted VM): write requests on the virtio disk below it per punch", bench: "BenchmarkSlowDiskPunch", unit: "disk-writes/punch", show: "/punch", scale: 1},
	{what: "slow disk (booted VM), the harsher model: every write held 8 ms too (informational): badge -> feedback (p50)", bench: "BenchmarkSlowDiskPunch", unit: "harsh-p50-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM), the harsher model (informational): badge -> feedback (p99)", bench: "BenchmarkSlowDiskPunch", unit: "harsh-p99-ms", show: "ms", scale: 1},
	{what: "slow disk (booted VM), the harsher model: 4 KiB write + fdatasync, timed in the guest (p50)", bench: "BenchmarkSlowDiskPunch", unit: "harsh-fsync-ms", show: "ms", scale: 1},

	// The same model without the emulated CPU (informational): the host's
	// timeclockd with every fsync and fdatasync held 5 ms longer by strace.
	{what: "fsync delayed 5 ms on the host's own CPU (strace; informational): badge -> durable punch -> feedback (p50)", bench: "BenchmarkSlowFsyncPunch", unit: "p50-ms", show: "ms", scale: 1},
	{what: "fsync delayed 5 ms on the host's own CPU (strace; informational): badge -> durable punch -> feedback (p99)", bench: "BenchmarkSlowFsyncPunch", unit: "p99-ms", show: "ms", scale: 1},
	{what: "fsync delayed 5 ms on the host's own CPU: 4 KiB write + fdatasync under the same delay (p50)", bench: "BenchmarkSlowFsyncPunch", unit: "fsync-ms", show: "ms", scale: 1},

	// Onboarding, the console, the cloud alone, the hardware drivers.
	{what: "activation on the clock: key, CSR, passcode hash, identity files", bench: "BenchmarkActivationSave", unit: "ns/op", show: "ms", scale: 1e-6},
	{what: "cloud: activation through the API handler (p50)", bench: "BenchmarkActivation", unit: "p50-ms", show: "ms", scale: 1},
	{what: "cloud: activation through the API handler (p99)", bench: "BenchmarkActivation", unit: "p99-ms", show: "ms", scale: 1},
	{what: "cloud: punch from an online simulated clock until its ack is back, embedded broker (p50)", bench: "BenchmarkCloudPunchAcked/embedded", unit: "p50-ms", show: "ms", scale: 1},
	{what: "cloud: punch from an online simulated clock until its ack is back, embedded broker (p99)", bench: "BenchmarkCloudPunchAcked/embedded", unit: "p99-ms", show: "ms", scale: 1, op: "<", target: 100},
	{what: "cloud: punch from an online simulated clock until its ack is back, Mosquitto (p50)", bench: "BenchmarkCloudPunchAcked/mosquitto", unit: "p50-ms", show: "ms", scale: 1},
	{what: "cloud: punch from an online simulated clock until its ack is back, Mosquitto (p99)", bench: "BenchmarkCloudPunchAcked/mosquitto", unit: "p99-ms", show: "ms", scale: 1, op: "<", target: 100},
	{what: "cloud: ingest of 100,000 punches buffered on a simulated clock, through Mosquitto, stored and acked", bench: "BenchmarkCloudIngestMosquitto", unit: "punches/s", show: "/s", scale: 1, op: ">=", target: 20000},
	{what: "cloud: raw QoS 1 publish of the same 500-punch batches to Mosquitto (informational, same run)", bench: "BenchmarkCloudIngestMosquitto", unit: "raw-punches/s", show: "/s", scale: 1},
	{what: "cloud: ingest / raw publish (informational)", bench: "BenchmarkCloudIngestMosquitto", unit: "ratio", show: "x", scale: 1},
	{what: "console passcode check, bcrypt cost 10 (CPU per login attempt)", bench: "BenchmarkVerifyPasscode", unit: "ms/check", show: "ms", scale: 1},
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

// met checks v against the row's target.
func (r row) met(v float64) bool {
	switch r.op {
	case "<=":
		return v <= r.target
	case "<":
		return v < r.target
	case ">=":
		return v >= r.target
	}
	return true
}

// value is the row's result and, when it has none or rests on too few
// samples, why.
func (r row) value(res map[string]map[string]float64) (v float64, why string) {
	v, ok := res[r.bench][r.unit]
	if !ok {
		return 0, "not run"
	}
	if strings.HasPrefix(r.unit, "p99") || strings.Contains(r.unit, "-p99") {
		n, ok := res[r.bench]["samples"]
		if !ok {
			return 0, "no sample count reported"
		}
		if n < minSamples {
			return 0, fmt.Sprintf("p99 from %.0f samples (< %d)", n, minSamples)
		}
	}
	if r.den != nil {
		d, ok := res[r.den.bench][r.den.unit]
		if !ok || d == 0 {
			return 0, "not run (" + strings.TrimPrefix(r.den.bench, "Benchmark") + ")"
		}
		v /= d
	}
	return v * r.scale, ""
}

// table writes the table and returns the target rows missed or not run,
// each as "what: why".
func table(res map[string]map[string]float64, w io.Writer) (failed []string) {
	fmt.Fprintln(w, "| what | result | target | met |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range rows {
		target, result, met := "", "", ""
		if r.op != "" {
			target = r.op + " " + format(r.target) + " " + r.show
		}
		v, why := r.value(res)
		switch {
		case why != "":
			result = why
			if r.op != "" {
				met = "**no**"
				failed = append(failed, r.what+": "+why)
			}
		default:
			result = format(v) + " " + r.show
			if r.op != "" {
				if r.met(v) {
					met = "yes"
				} else {
					met = "**no**"
					failed = append(failed, fmt.Sprintf("%s: %s, target %s", r.what, result, target))
				}
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.what, result, target, met)
	}
	return failed
}

// main prints the table; it exits 1, naming each, when a target row was
// missed or did not run, so make bench fails.
func main() {
	failed := table(parse(os.Stdin), os.Stdout)
	if len(failed) > 0 {
		fmt.Fprintf(os.Stderr, "benchtable: %d target rows missed or not run:\n", len(failed))
		for _, f := range failed {
			fmt.Fprintln(os.Stderr, "  - "+f)
		}
		os.Exit(1)
	}
}
