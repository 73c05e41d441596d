package wiegand

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"timeclock/hal/haltest"
)

// stampedPin is a data line whose edges carry the time the kernel saw
// them, as the GPIO character device's line events do. Delivery is up to
// the test: a late wake-up can hand an edge to the driver long after a
// later edge on the other line.
type stampedPin struct {
	*haltest.EdgePin
	mu     sync.Mutex
	stamps []time.Duration // guarded by mu; one per edge handed in, oldest first
}

func newStampedPin(name string, num int) *stampedPin {
	return &stampedPin{EdgePin: haltest.NewEdgePin(name, num, gpio.High)}
}

// WaitForEdgeTime is WaitForEdge that also says when the kernel saw the edge.
func (p *stampedPin) WaitForEdgeTime(timeout time.Duration) (time.Duration, bool) {
	if !p.EdgePin.WaitForEdge(timeout) {
		return 0, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	at := p.stamps[0]
	p.stamps = p.stamps[1:]
	return at, true
}

// edgeAt hands the driver a falling edge the kernel saw at at, and returns
// once the driver has taken it.
func (p *stampedPin) edgeAt(t testing.TB, at time.Duration) {
	t.Helper()
	p.mu.Lock()
	p.stamps = append(p.stamps, at)
	p.mu.Unlock()
	p.Edge(t, gpio.Low)
}

// swappable finds adjacent bits i, i+1 in one parity half that differ:
// delivered the wrong way round they keep the parity and change the number.
func swappable(t *testing.T, frame []uint8) int {
	t.Helper()
	for i := 1; i+1 < 13; i++ {
		if frame[i] != frame[i+1] {
			return i
		}
	}
	t.Fatal("no adjacent differing bits in the even half")
	return 0
}

// A reader sends a bit every 2 ms; the goroutine of one line wakes late, so
// the driver is handed bit i+1 (on one line) before bit i (on the other).
// The kernel's timestamps still say which came first, and the badge must
// read as sent: a swap inside a parity half keeps the parity, so a wrong
// order would be a wrong card number, not a rejected frame.
func TestLateWakeUpCannotReorderBits(t *testing.T) {
	d0, d1 := newStampedPin("GPIO17", 17), newStampedPin("GPIO27", 27)
	d, err := New(d0, d1, &Opts{Timeout: time.Hour}) // frames end by flush
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	r := &rig{d: d}

	const fc, cn = 0x5A, 0xA5C3
	frame, err := Encode(26, fc, cn)
	if err != nil {
		t.Fatal(err)
	}
	late := swappable(t, frame)
	order := make([]int, len(frame))
	for i := range order {
		order[i] = i
	}
	order[late], order[late+1] = late+1, late // the later bit's line first
	for _, i := range order {
		at := time.Duration(i) * 2 * time.Millisecond
		if frame[i] == 0 {
			d0.edgeAt(t, at)
		} else {
			d1.edgeAt(t, at)
		}
	}
	r.end(t)
	ev, err := read(t, d)
	if err != nil {
		t.Fatalf("frame with bits %d and %d handed over swapped: %v", late, late+1, err)
	}
	if ev.Facility != fc || ev.Number != strconv.Itoa(cn) {
		t.Fatalf("frame with bits %d and %d handed over swapped read as facility %d card %s; sent facility %d card %d",
			late, late+1, ev.Facility, ev.Number, fc, cn)
	}
}
