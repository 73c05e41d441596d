package clock

import (
	"sync/atomic"
	"time"
)

// Offset is a clock that reads another one shifted by an offset, and is set
// by changing the offset: the simulated board's wall clock, which a test
// starts far in the past and the agent then sets from the cloud as it would
// set a real board's with clock_settime. Timers run on the base clock, as
// the kernel's run on the monotonic clock.
type Offset struct {
	base Clock
	off  atomic.Int64 // nanoseconds
}

// NewOffset returns base shifted by off.
func NewOffset(base Clock, off time.Duration) *Offset {
	o := &Offset{base: base}
	o.off.Store(int64(off))
	return o
}

// Now is the base clock's time plus the offset, without a monotonic
// reading: Go's would move with the offset, so durations across a SetTime
// are wall-clock differences (round trips spanning it are refused as
// unusable samples; a real board's kernel keeps its monotonic clock).
func (o *Offset) Now() time.Time {
	return o.base.Now().Add(time.Duration(o.off.Load())).Round(0)
}

// NewTimer is the base clock's timer.
func (o *Offset) NewTimer(d time.Duration) Timer { return o.base.NewTimer(d) }

// SetTime moves the offset so Now reads t.
func (o *Offset) SetTime(t time.Time) error {
	o.off.Store(int64(t.Sub(o.base.Now())))
	return nil
}

var (
	_ Clock  = (*Offset)(nil)
	_ Setter = (*Offset)(nil)
)
