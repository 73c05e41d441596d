// Package latency collects durations in a benchmark and reports their
// percentiles as benchmark metrics (p50-ms, p99-ms), which scripts/benchtable
// turns into BENCHMARKS.md rows.
package latency

import (
	"slices"
	"testing"
	"time"
)

// Recorder holds measured durations.
type Recorder struct {
	ds []time.Duration
}

// Add records one duration.
func (r *Recorder) Add(d time.Duration) { r.ds = append(r.ds, d) }

// Len is how many durations were recorded.
func (r *Recorder) Len() int { return len(r.ds) }

// Percentile returns the p-th percentile (0-100), nearest rank.
func (r *Recorder) Percentile(p float64) time.Duration {
	if len(r.ds) == 0 {
		return 0
	}
	s := slices.Clone(r.ds)
	slices.Sort(s)
	i := int(p/100*float64(len(s)) + 0.5)
	return s[min(max(i-1, 0), len(s)-1)]
}

// Report adds p50-ms, p99-ms, max-ms and samples (how many durations the
// percentiles rest on: scripts/benchtable refuses a p99 from fewer than
// 200) to the benchmark's metrics.
func (r *Recorder) Report(b *testing.B) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(r.Percentile(50)), "p50-ms")
	b.ReportMetric(ms(r.Percentile(99)), "p99-ms")
	b.ReportMetric(ms(r.Percentile(100)), "max-ms")
	b.ReportMetric(float64(len(r.ds)), "samples")
}
