package main

import (
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	in := `goos: linux
BenchmarkStartToIdle-2   	      20	  30000000 ns/op	        21.5 p50-ms	        612 p99-ms	200 samples
BenchmarkStartToIdle@qemu-arm   	      20	  30000000 ns/op	        90 p50-ms	        306 p99-ms	200 samples
BenchmarkBadgeToFeedback-2   	      20	  30000000 ns/op	        0.5 p50-ms	        1.2 p99-ms	20 samples
BenchmarkSerialPunches-2 20 1 ns/op 1500 punches/s 2700 commits/s 0.4 commit-p99-ms 0.55 ratio
BenchmarkBinarySize/armv7 1 7340032 bytes
BenchmarkSlowDiskPunch-2 1 1 ns/op 40 p50-ms 60 p99-ms 150 samples 80 slirp-p99-ms 3 flushes/punch
PASS`
	var sb strings.Builder
	failed := table(parse(strings.NewReader(in)), &sb)
	out := sb.String()
	for _, want := range []string{
		"| start to idle screen, sim board (p50) | 21.5 ms |  |  |",
		"| start to idle screen, sim board (p99) | 612 ms | <= 500 ms | **no** |",
		"| qemu-arm: start to idle screen, sim board (p99) | 306 ms | <= 500 ms | yes |",
		"| qemu-arm: start to idle p99 / the host build's | 0.50 x |  |  |",
		"| badge -> durable punch -> feedback screen, sim board (p99) | p99 from 20 samples (< 200) | <= 25.0 ms | **no** |",
		"| serial punches / serial commits | 0.55 x | >= 0.80 x | **no** |",
		"| stripped agent binary, linux/arm GOARM=7 | 7.00 MiB | <= 8.00 MiB | yes |",
		"| stripped agent binary, linux/arm64 | not run |  |  |",
		"| slow disk (booted VM): badge -> durable punch -> feedback, client in the guest (p50) | 40.0 ms |  |  |",
		"| slow disk (booted VM): badge -> durable punch -> feedback, client in the guest (p99) | p99 from 150 samples (< 200) | < 25.0 ms | **no** |",
		"| slow disk (booted VM): the same, swiped from the host across qemu's user network (p99, informational) | p99 from 150 samples (< 200) |  |  |",
		"| slow disk (booted VM): flush requests per punch (counted on the virtio disk below: dm does not count them) | 3.00 /punch |  |  |",
		"| slow disk (booted VM): 4 KiB write + fdatasync, timed in the guest: the model as the agent sees it (p50) | not run |  |  |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	joined := strings.Join(failed, "\n")
	for _, want := range []string{
		"start to idle screen, sim board (p99): 612 ms, target <= 500 ms",
		"serial punches / serial commits: 0.55 x, target >= 0.80 x",
		"badge -> durable punch -> feedback screen, sim board (p99): p99 from 20 samples (< 200)",
		"slow disk (booted VM): badge -> durable punch -> feedback, client in the guest (p99): p99 from 150 samples (< 200)",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("failures lack %q:\n%s", want, joined)
		}
	}
	for _, f := range failed {
		if strings.Contains(f, "GOARM=7") || strings.Contains(f, "qemu-arm: start to idle screen, sim board (p99)") ||
			strings.Contains(f, "user network") {
			t.Errorf("a met or informational row is listed as failed: %s", f)
		}
	}
}

// TestAllMet: with every target row met, nothing fails: every metric is
// 0 (the "<=" and "<" targets), huge for a ">=" target, 1 as a divisor.
func TestAllMet(t *testing.T) {
	res := map[string]map[string]float64{}
	set := func(bench, unit string, v float64) {
		if res[bench] == nil {
			res[bench] = map[string]float64{"samples": minSamples}
		}
		res[bench][unit] = max(res[bench][unit], v)
	}
	for _, r := range rows {
		set(r.bench, r.unit, 0)
		if r.op == ">=" {
			set(r.bench, r.unit, 1e12)
		}
		if r.den != nil {
			set(r.den.bench, r.den.unit, 1)
		}
	}
	var sb strings.Builder
	if failed := table(res, &sb); len(failed) > 0 {
		t.Errorf("failed %q\n%s", failed, sb.String())
	}
}

func FuzzParse(f *testing.F) {
	f.Add("BenchmarkX-2 20 1 ns/op 3 p99-ms 200 samples\n")
	f.Add("BenchmarkBinarySize/armv7 1 7340032 bytes\n")
	f.Add("Benchmark 1 x y z\nBenchmarkY 1 NaN ms\n")
	f.Fuzz(func(t *testing.T, in string) {
		res := parse(strings.NewReader(in))
		var sb strings.Builder
		table(res, &sb) // never panics, whatever it was given
	})
}
