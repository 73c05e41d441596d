package matrix

import (
	"syscall"
	"testing"
	"time"

	"timeclock/hal/matrix/matrixtest"
)

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkKeypadIdleCPU runs the keypad with nobody pressing keys and
// reports the whole process's CPU time per second of wall time (cpu-%) and
// the matrix scans done (scans/s): an idle keypad must block on column
// edges, not poll. Each iteration idles 100 ms.
func BenchmarkKeypadIdleCPU(b *testing.B) {
	kp := matrixtest.New(5, 4)
	d, err := New(kp.RowPins(), kp.ColPins(), &Opts{Layout: devkit, ScanPeriod: 5 * time.Millisecond, Debounce: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Halt()
	for _, c := range kp.Cols {
		c.WaitBlocked(b)
	}
	reads0, cpu0, wall0 := kp.Reads(), cpuTime(b), time.Now()
	for b.Loop() {
		time.Sleep(100 * time.Millisecond) // the thing measured: idle time
	}
	wall := time.Since(wall0)
	b.ReportMetric(100*float64(cpuTime(b)-cpu0)/float64(wall), "cpu-%")
	b.ReportMetric(float64(kp.Reads()-reads0)/20/wall.Seconds(), "scans/s")
}
