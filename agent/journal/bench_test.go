package journal

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkAppendBurst: a burst of durable punches from many goroutines at
// once (badge readers, a backlog replay); group commit shares fsyncs among
// them. Reports punches per second; the state file is on the test's
// TMPDIR (ext4 on the build host).
func BenchmarkAppendBurst(b *testing.B) {
	_, j := openJournal(b, b.TempDir(), Options{Capacity: 10_000_000})
	const burst, writers = 2000, 64
	var total int
	start := time.Now()
	for b.Loop() {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < burst; i += writers {
					if _, err := j.Append(punch(fmt.Sprint("E", i), KindIn, t0)); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		total += burst
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "punches/s")
}

// BenchmarkAppendOne: badge to durable punch, one at a time (the screen
// says "accepted" when Append returns: encode, commit, fsync).
func BenchmarkAppendOne(b *testing.B) {
	_, j := openJournal(b, b.TempDir(), Options{Capacity: 10_000_000})
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := j.Append(punch(fmt.Sprint("E", i), KindIn, t0)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1000, "cpu-us/op")
}
