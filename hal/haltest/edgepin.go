package haltest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// Deadline bounds every wait in this package's suites and doubles: long
// enough for a loaded CI machine, short enough that a hang fails.
const Deadline = 10 * time.Second

// EdgePin is a gpiotest.Pin for edge-driven drivers. A test hands it edges
// with Edge and learns when the driver has dealt with each one (it has come
// back to WaitForEdge), so tests never guess with sleeps. Halt interrupts a
// pending WaitForEdge, as it does on periph's gpioioctl lines.
//
// WaitForEdge keeps periph.io/x/conn's contract: -1 waits forever, 0 polls.
type EdgePin struct {
	*gpiotest.Pin
	kick chan struct{}

	mu       sync.Mutex
	changed  chan struct{} // guarded by mu; closed and replaced on every change
	sent     int           // guarded by mu; edges handed in
	consumed int           // guarded by mu; edges a WaitForEdge returned
	handled  int           // guarded by mu; edges consumed when WaitForEdge was last entered
	waiting  bool          // guarded by mu; a WaitForEdge is pending
	waits    int           // guarded by mu; WaitForEdge calls so far
}

// NewEdgePin returns a pin named name that reads level until told otherwise.
func NewEdgePin(name string, num int, level gpio.Level) *EdgePin {
	return &EdgePin{
		Pin:     &gpiotest.Pin{N: name, Num: num, L: level, EdgesChan: make(chan gpio.Level, 256)},
		kick:    make(chan struct{}, 1),
		changed: make(chan struct{}),
	}
}

// updateLocked notes a change for waiters; p.mu must be held.
func (p *EdgePin) updateLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// In configures the pin like gpiotest.Pin does; edges it flushes count as
// handled.
func (p *EdgePin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.Pin.Lock()
	p.P = pull
	switch pull {
	case gpio.PullDown:
		p.L = gpio.Low
	case gpio.PullUp:
		p.L = gpio.High
	}
	p.Pin.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		select {
		case <-p.EdgesChan:
			p.consumed++
			p.handled = p.consumed
			p.updateLocked()
		default:
			return nil
		}
	}
}

// WaitForEdge waits for an edge handed in by Edge or Post.
func (p *EdgePin) WaitForEdge(timeout time.Duration) bool {
	p.mu.Lock()
	p.handled = p.consumed
	p.waiting = true
	p.waits++
	p.updateLocked()
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.waiting = false
		p.updateLocked()
		p.mu.Unlock()
	}()
	if timeout == 0 {
		select {
		case l := <-p.EdgesChan:
			p.got(l)
			return true
		default:
			return false
		}
	}
	var after <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		after = t.C
	}
	select {
	case l := <-p.EdgesChan:
		p.got(l)
		return true
	case <-p.kick:
		return false
	case <-after:
		return false
	}
}

func (p *EdgePin) got(l gpio.Level) {
	p.Pin.Out(l)
	p.mu.Lock()
	p.consumed++
	p.updateLocked()
	p.mu.Unlock()
}

// Halt interrupts a pending WaitForEdge (or the next one), which returns
// false.
func (p *EdgePin) Halt() error {
	select {
	case p.kick <- struct{}{}:
	default:
	}
	return nil
}

// Edge hands the driver an edge to level l and returns once the driver has
// dealt with it and waits again. One goroutine at a time may call it.
func (p *EdgePin) Edge(t testing.TB, l gpio.Level) {
	t.Helper()
	n := p.post(l)
	p.WaitUntil(t, func() bool { return p.handled >= n }, "edge %d to %s not handled", n, l)
}

// Post hands the driver an edge without waiting; emulated chips use it to
// raise their interrupt line.
func (p *EdgePin) Post(l gpio.Level) { p.post(l) }

func (p *EdgePin) post(l gpio.Level) int {
	p.mu.Lock()
	p.sent++
	n := p.sent
	p.mu.Unlock()
	p.EdgesChan <- l
	return n
}

// Waits is how many times WaitForEdge has been called.
func (p *EdgePin) Waits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waits
}

// WaitBlocked waits until a driver is blocked in WaitForEdge with every
// edge handled.
func (p *EdgePin) WaitBlocked(t testing.TB) {
	t.Helper()
	p.WaitUntil(t, func() bool { return p.waiting && p.consumed == p.sent }, "%s: nobody waits for edges", p)
}

// WaitUntil waits, up to Deadline, until cond (called with the pin's
// counters locked) holds.
func (p *EdgePin) WaitUntil(t testing.TB, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.NewTimer(Deadline)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		ok := cond()
		ch := p.changed
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("after %v: %s", Deadline, fmt.Sprintf(msg, args...))
		}
	}
}

var _ gpio.PinIO = (*EdgePin)(nil)
