// Package wiegand reads badge readers that speak Wiegand on two GPIO lines:
// a pulse low on D0 is a 0 bit, on D1 a 1 bit, and a gap longer than
// Timeout ends the frame. Frames of 26 (H10301), 34 and 37 (H10304) bits
// with good parity become badges; anything else is counted and reported as
// an error wrapping hal.ErrBadFrame.
//
// Bits on the two lines come from two goroutines blocked on their pins'
// edges. Readers leave about 1-2 ms between bits, far more than it takes
// to hand a bit on, so the order holds.
package wiegand

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"

	"timeclock/hal"
	"timeclock/hal/internal/badgeq"
	"timeclock/hal/internal/edge"
)

// Opts configures a reader.
type Opts struct {
	// Timeout is the gap without a bit that ends a frame. Readers send a
	// bit every 1-2 ms and frames at least ~250 ms apart.
	Timeout time.Duration
	// Queue is how many reads may wait unread; more are dropped.
	Queue int
}

// DefaultOpts ends a frame after 25 ms of silence.
var DefaultOpts = Opts{Timeout: 25 * time.Millisecond, Queue: 16}

// maxBits bounds a frame; longer ones are noise.
const maxBits = 64

// Dev is a Wiegand reader.
type Dev struct {
	d0, d1 gpio.PinIn
	opts   Opts
	bits   chan uint8
	reads  badgeq.Queue
	flush  chan struct{} // ends the frame now (tests)
	done   chan struct{}
	wg     sync.WaitGroup
	halt   sync.Once
	bad    atomic.Uint64
}

var (
	_ hal.BadgeReader  = (*Dev)(nil)
	_ hal.FrameCounter = (*Dev)(nil)
)

// New starts a reader on the D0 and D1 lines. They are inputs with
// pull-ups; the pins' WaitForEdge must follow periph.io/x/conn (-1 waits
// forever) and their Halt must interrupt it.
func New(d0, d1 gpio.PinIn, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		return nil, fmt.Errorf("wiegand: timeout %v must be positive", o.Timeout)
	}
	if o.Queue < 1 {
		o.Queue = DefaultOpts.Queue
	}
	for _, p := range []gpio.PinIn{d0, d1} {
		if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return nil, fmt.Errorf("wiegand: %s: %w", p, err)
		}
	}
	d := &Dev{
		d0: d0, d1: d1, opts: o,
		bits:  make(chan uint8),
		reads: badgeq.New(o.Queue),
		flush: make(chan struct{}),
		done:  make(chan struct{}),
	}
	d.wg.Add(3)
	go d.line(d0, 0)
	go d.line(d1, 1)
	go d.assemble()
	return d, nil
}

func (d *Dev) String() string { return fmt.Sprintf("wiegand(d0=%s,d1=%s)", d.d0.Name(), d.d1.Name()) }

// BadFrames counts the frames rejected so far.
func (d *Dev) BadFrames() uint64 { return d.bad.Load() }

// ReadBadge returns the next badge, or an error wrapping hal.ErrBadFrame
// for a frame that was rejected.
func (d *Dev) ReadBadge(ctx context.Context) (hal.BadgeEvent, error) {
	return d.reads.Next(ctx, d.done)
}

// Halt stops the reader and switches edge detection off.
func (d *Dev) Halt() error {
	var err error
	d.halt.Do(func() {
		close(d.done)
		exited := make(chan struct{})
		go func() { d.wg.Wait(); close(exited) }()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
	kick:
		for {
			d.d0.Halt() // interrupts a pending WaitForEdge
			d.d1.Halt()
			select {
			case <-exited:
				break kick
			case <-tick.C:
			}
		}
		for _, p := range []gpio.PinIn{d.d0, d.d1} {
			if e := p.In(gpio.PullUp, gpio.NoEdge); e != nil && err == nil {
				err = fmt.Errorf("wiegand: halt %s: %w", p, e)
			}
		}
	})
	return err
}

// line hands on a bit for every falling edge of one data line.
func (d *Dev) line(p gpio.PinIn, bit uint8) {
	defer d.wg.Done()
	for edge.Wait(d.done, p) {
		select {
		case d.bits <- bit:
		case <-d.done:
			return
		}
	}
}

// assemble collects bits into frames, ending one after Timeout of silence.
func (d *Dev) assemble() {
	defer d.wg.Done()
	var frame []uint8
	gap := time.NewTimer(time.Hour)
	gap.Stop()
	defer gap.Stop()
	for {
		select {
		case <-d.done:
			return
		case b := <-d.bits:
			if len(frame) <= maxBits {
				frame = append(frame, b)
			}
			gap.Reset(d.opts.Timeout)
			continue
		case <-gap.C:
		case <-d.flush:
			gap.Stop()
		}
		if len(frame) > 0 {
			d.finish(frame)
			frame = nil
		}
	}
}

// finish decodes a frame and queues the badge or the rejection.
func (d *Dev) finish(frame []uint8) {
	ev, err := Decode(frame)
	if err != nil {
		d.bad.Add(1)
		if len(frame) > maxBits {
			err = &FrameError{len(frame), fmt.Sprintf("longer than %d bits", maxBits)}
		}
	} else {
		ev.Time = time.Now()
	}
	d.reads.Put(ev, err)
}
