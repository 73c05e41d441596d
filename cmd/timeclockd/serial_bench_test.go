package main

import (
	"testing"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/internal/daemontest"
	"timeclock/internal/latency"
)

// BenchmarkSerialPunches compares punches through a real timeclockd, one
// after another, each waiting for its accepted screen (the badge on the
// control socket, roster lookup, the durable commit, the screen), with the
// serial commit rate of the same disk measured in the same run: journal
// appends one at a time (each its own fsynced bbolt transaction, the
// commit a punch makes) on a state file beside the daemon's. Each
// iteration is 50 of each, interleaved, so load on the machine falls on
// both alike. It also reports the commits' latency (commit-p50-ms,
// commit-p99-ms): "one durable commit" in BadgeToFeedback's target; and
// the punches' median (punch-p50-ms), which beside commit-p50-ms is what
// the daemon adds to a commit, less swayed by other load than the rates.
func BenchmarkSerialPunches(b *testing.B) {
	clk := startPunchClock(b, daemontest.Build(b, "timeclock/cmd/timeclockd"), b.TempDir(), nil)
	serialVsCommits(b, clk.punch)
	clk.stop(b)
}

// serialVsCommits runs the iterations: 50 serial journal appends on a
// state file of this process, then 50 punches, each one punch(b) (the
// badge and the wait for its accepted screen), and reports both rates,
// their ratio and the latencies.
func serialVsCommits(b *testing.B, punch func(*testing.B)) {
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	j, err := journal.Open(st, journal.Options{Capacity: 10_000_000})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	t0 := time.Now().UTC()

	var commits, punchLat latency.Recorder
	var punchTime, commitTime time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		for i := range 50 {
			c := time.Now()
			if _, err := j.Append(journal.Punch{Employee: "E000001", Name: workerName(1), Kind: journal.KindIn, Time: t0.Add(time.Duration(n+i) * time.Second), TZ: "UTC", ClockSet: true}); err != nil {
				b.Fatal(err)
			}
			commits.Add(time.Since(c))
		}
		commitTime += time.Since(start)
		start = time.Now()
		for range 50 {
			c := time.Now()
			punch(b)
			punchLat.Add(time.Since(c))
		}
		n += 50
		punchTime += time.Since(start)
	}
	punches := float64(n) / punchTime.Seconds()
	rate := float64(n) / commitTime.Seconds()
	b.ReportMetric(punches, "punches/s")
	b.ReportMetric(rate, "commits/s")
	b.ReportMetric(punches/rate, "ratio")
	b.ReportMetric(float64(commits.Percentile(50))/1e6, "commit-p50-ms")
	b.ReportMetric(float64(commits.Percentile(99))/1e6, "commit-p99-ms")
	b.ReportMetric(float64(punchLat.Percentile(50))/1e6, "punch-p50-ms")
	b.ReportMetric(float64(commits.Len()), "samples")
}
