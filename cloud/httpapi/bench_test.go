package httpapi

import (
	"fmt"
	"testing"
	"time"

	"timeclock/cloud/enroll"
	"timeclock/cloud/ratelimit"
	"timeclock/internal/latency"
)

// BenchmarkActivation measures one activation through the HTTP handler on
// loopback: CSR check, code check, certificate signing and the fsynced
// store commit.
func BenchmarkActivation(b *testing.B) {
	e := newEnvWith(b, func(c *enroll.Config) {
		loose := ratelimit.Rate{Burst: 1 << 20, Every: time.Nanosecond}
		c.Limits = enroll.Limits{Lookup: loose, WrongCompany: loose, Mail: loose, Activate: loose}
	})
	var rec latency.Recorder
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		e.dev.Serial = fmt.Sprintf("BENCH-%06d", i)
		resp, code := e.requestCode(false, "")
		csr := newCSR(b)
		b.StartTimer()
		start := time.Now()
		if _, we := e.activate(resp.SessionID, code, csr); we != nil {
			b.Fatal(we)
		}
		rec.Add(time.Since(start))
	}
	rec.Report(b)
}
