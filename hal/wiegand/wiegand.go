// Package wiegand reads badge readers that speak Wiegand on two GPIO lines:
// a pulse low on D0 is a 0 bit, on D1 a 1 bit, and a gap longer than
// Timeout ends the frame. Frames of 26 (H10301), 34 and 37 (H10304) bits
// with good parity become badges; anything else is counted and reported as
// an error wrapping hal.ErrBadFrame.
//
// # Bit order
//
// The order of the bits must not rest on goroutine scheduling: swapping a
// 0 and a 1 inside one parity half keeps the parity, so a wrong order is a
// wrong card number, not a rejected frame. Each edge therefore carries the
// time the kernel saw it, and a frame's bits are put in timestamp order
// before it is decoded; a frame ends where two edges lie more than Timeout
// apart by those timestamps, however late they were handed over.
//
// The edges come either from one Source that yields both lines' edges in
// the kernel's order (NewSource; on Linux, one line request holding both
// lines, as board sets up), or from two pins each waited on by its own
// goroutine (New). Pins that are TimedPins give the kernel's timestamps and
// are ordered by them; plain pins are stamped on arrival, which orders them
// only as well as the goroutines are scheduled.
//
// A source that lost edges (the kernel's queue overflowed, seen as a gap in
// its sequence numbers) says so in Edge.Dropped; the frames the lost edges
// may have belonged to are bad frames, never badges.
package wiegand

import (
	"context"
	"fmt"
	"sort"
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
	// Timeout is the gap between two edges' timestamps that ends a frame,
	// and how long the driver waits, with no edge handed over, before it
	// decodes the frame. Readers send a bit every 1-2 ms and frames at
	// least ~250 ms apart.
	Timeout time.Duration
	// Queue is how many reads may wait unread; more are dropped.
	Queue int
}

// DefaultOpts ends a frame after 25 ms of silence.
var DefaultOpts = Opts{Timeout: 25 * time.Millisecond, Queue: 16}

// maxBits bounds a frame; longer ones are noise.
const maxBits = 64

// retry is the pause after a Source fails, so a failing source does not spin.
const retry = 100 * time.Millisecond

// Edge is one edge on one of the two data lines.
type Edge struct {
	// Line is 0 for D0 (a falling edge is a 0 bit) and 1 for D1 (a 1 bit).
	Line int
	// Edge is gpio.FallingEdge or gpio.RisingEdge; only falling edges are
	// bits.
	Edge gpio.Edge
	// At is when the edge happened on a monotonic clock: the kernel's event
	// timestamp where the source has one. Only differences between the
	// edges of one source count.
	At time.Duration
	// Dropped is how many events the source lost just before this edge
	// (the kernel's queue overflowed: a gap in its sequence numbers). The
	// lost edges may belong to the frame being read or to this edge's
	// frame, so both are rejected as bad frames, never decoded.
	Dropped int
	// Quiet, from a QuietSource, is no edge but a mark: the source found
	// its queue empty Timeout after it returned its last edge, so the
	// frame read so far is complete.
	Quiet bool
}

// Source yields both data lines' edges from one stream, in the order the
// kernel saw them, each with its timestamp. On Linux it is one line
// request holding both lines (board's own GPIO v2 request; periph's
// gpioioctl.LineSet as a fallback).
type Source interface {
	// NextEdge blocks until the next edge of either line. It returns an
	// error when interrupted by Halt or when the source failed.
	NextEdge() (Edge, error)
	// Halt interrupts a pending NextEdge (or the next one).
	Halt() error
	// Close releases the lines; the driver calls it once, after its last
	// NextEdge returned.
	Close() error
	String() string
}

// QuietSource is a Source that ends frames itself. The driver's own
// wait of Timeout with no edge handed over is by the wall clock and cannot
// tell a quiet line from a reader that stalled while the rest of the frame
// waited in the kernel's queue; a frame cut there can pass a shorter
// format's parity. The source, the only reader of that queue, can: once
// its queue stayed empty for the quiet time after an edge, NextEdge
// returns an Edge with Quiet set, and the driver ends the frame by those
// marks and by timestamps only.
type QuietSource interface {
	Source
	// SetQuiet sets the quiet time; the driver calls it once, with its
	// Timeout, before the first NextEdge.
	SetQuiet(d time.Duration)
}

// TimedPin is a data line that knows when the kernel saw each edge. New
// orders the two lines' edges by these timestamps when both pins have them.
type TimedPin interface {
	gpio.PinIn
	// WaitForEdgeTime is WaitForEdge that also returns the edge's timestamp
	// on a monotonic clock shared by both lines.
	WaitForEdgeTime(timeout time.Duration) (at time.Duration, ok bool)
}

// Dev is a Wiegand reader.
type Dev struct {
	name   string
	src    Source     // nil when reading two pins
	quiet  bool       // src is a QuietSource: frames never end by the wall clock
	d0, d1 gpio.PinIn // nil when reading a Source
	opts   Opts
	edges  chan Edge
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

func newDev(name string, opts *Opts) (*Dev, error) {
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
	return &Dev{
		name:  name,
		opts:  o,
		edges: make(chan Edge),
		reads: badgeq.New(o.Queue),
		flush: make(chan struct{}),
		done:  make(chan struct{}),
	}, nil
}

// NewSource starts a reader on a source of both lines' edges, already
// configured (inputs, pull-ups, falling edges). The reader owns src from
// then on and closes it when halted.
func NewSource(src Source, opts *Opts) (*Dev, error) {
	d, err := newDev(fmt.Sprintf("wiegand(%s)", src), opts)
	if err != nil {
		return nil, err
	}
	d.src = src
	if q, ok := src.(QuietSource); ok {
		q.SetQuiet(d.opts.Timeout)
		d.quiet = true
	}
	d.wg.Add(2)
	go d.readSource()
	go d.assemble()
	return d, nil
}

// New starts a reader on the D0 and D1 lines. They are inputs with
// pull-ups; the pins' WaitForEdge must follow periph.io/x/conn (-1 waits
// forever) and their Halt must interrupt it. When both are TimedPins the
// bits are ordered by the kernel's timestamps; otherwise by arrival.
func New(d0, d1 gpio.PinIn, opts *Opts) (*Dev, error) {
	d, err := newDev(fmt.Sprintf("wiegand(d0=%s,d1=%s)", d0.Name(), d1.Name()), opts)
	if err != nil {
		return nil, err
	}
	for _, p := range []gpio.PinIn{d0, d1} {
		if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return nil, fmt.Errorf("wiegand: %s: %w", p, err)
		}
	}
	d.d0, d.d1 = d0, d1
	t0, ok0 := d0.(TimedPin)
	t1, ok1 := d1.(TimedPin)
	start := time.Now()
	var wait [2]func() (time.Duration, bool)
	for i, p := range []gpio.PinIn{d0, d1} {
		wait[i] = func() (time.Duration, bool) {
			if !edge.Wait(d.done, p) {
				return 0, false
			}
			return time.Since(start), true
		}
	}
	if ok0 && ok1 { // both on the kernel's clock
		for i, p := range []TimedPin{t0, t1} {
			wait[i] = func() (time.Duration, bool) { return waitTimed(d.done, p) }
		}
	}
	d.wg.Add(3)
	go d.readPin(0, wait[0])
	go d.readPin(1, wait[1])
	go d.assemble()
	return d, nil
}

// waitTimed is edge.Wait for a TimedPin.
func waitTimed(done <-chan struct{}, p TimedPin) (time.Duration, bool) {
	for {
		select {
		case <-done:
			return 0, false
		default:
		}
		if at, ok := p.WaitForEdgeTime(-1); ok {
			return at, true
		}
		select {
		case <-done:
			return 0, false
		case <-time.After(retry):
		}
	}
}

func (d *Dev) String() string { return d.name }

// BadFrames counts the frames rejected so far.
func (d *Dev) BadFrames() uint64 { return d.bad.Load() }

// ReadBadge returns the next badge, or an error wrapping hal.ErrBadFrame
// for a frame that was rejected.
func (d *Dev) ReadBadge(ctx context.Context) (hal.BadgeEvent, error) {
	return d.reads.Next(ctx, d.done)
}

// Halt stops the reader and switches edge detection off (a Source is
// closed).
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
			// Interrupts a pending wait; kicked again in case a wait had
			// not begun yet.
			if d.src != nil {
				d.src.Halt()
			} else {
				d.d0.Halt()
				d.d1.Halt()
			}
			select {
			case <-exited:
				break kick
			case <-tick.C:
			}
		}
		if d.src != nil {
			if e := d.src.Close(); e != nil {
				err = fmt.Errorf("wiegand: halt %s: %w", d.src, e)
			}
			return
		}
		for _, p := range []gpio.PinIn{d.d0, d.d1} {
			if e := p.In(gpio.PullUp, gpio.NoEdge); e != nil && err == nil {
				err = fmt.Errorf("wiegand: halt %s: %w", p, e)
			}
		}
	})
	return err
}

// readPin hands on every falling edge of one data line.
func (d *Dev) readPin(line int, wait func() (time.Duration, bool)) {
	defer d.wg.Done()
	for {
		at, ok := wait()
		if !ok || !d.hand(Edge{Line: line, Edge: gpio.FallingEdge, At: at}) {
			return
		}
	}
}

// readSource hands on the source's edges in the source's order.
func (d *Dev) readSource() {
	defer d.wg.Done()
	for {
		e, err := d.src.NextEdge()
		if err != nil {
			select {
			case <-d.done:
				return
			case <-time.After(retry):
				continue
			}
		}
		if !d.hand(e) {
			return
		}
	}
}

// hand gives an edge to the assembler; false once halted.
func (d *Dev) hand(e Edge) bool {
	select {
	case d.edges <- e:
		return true
	case <-d.done:
		return false
	}
}

// assemble collects edges into frames. A frame ends when an edge comes
// more than Timeout after the frame's latest one by their timestamps, and
// at a QuietSource's quiet mark or, from other sources, when no edge has
// been handed over for Timeout.
func (d *Dev) assemble() {
	defer d.wg.Done()
	var frame []Edge
	var last time.Duration // latest timestamp in frame
	dropped := 0           // edges lost in frame, or before it began
	gap := time.NewTimer(time.Hour)
	gap.Stop()
	defer gap.Stop()
	for {
		select {
		case <-d.done:
			return
		case e := <-d.edges:
			// Lost edges lie between the frame's last edge and e: the
			// frame read so far is short of them, and so may be e's.
			dropped += e.Dropped
			if e.Quiet {
				break // ends the frame, as the timer does for other sources
			}
			if e.Edge != gpio.FallingEdge || e.Line < 0 || e.Line > 1 {
				continue
			}
			if len(frame) > 0 && e.At-last > d.opts.Timeout {
				d.finish(frame, dropped)
				frame = frame[:0]
				dropped = e.Dropped
			}
			if len(frame) == 0 || e.At > last {
				last = e.At
			}
			if len(frame) <= maxBits {
				frame = append(frame, e)
			}
			if !d.quiet {
				gap.Reset(d.opts.Timeout)
			}
			continue
		case <-gap.C:
		case <-d.flush:
			gap.Stop()
		}
		if len(frame) > 0 {
			d.finish(frame, dropped)
			frame = frame[:0]
		}
		dropped = 0
	}
}

// finish orders a frame's edges by their timestamps, decodes it and queues
// the badge or the rejection. A frame that lost edges is rejected unread.
func (d *Dev) finish(frame []Edge, dropped int) {
	if dropped > 0 {
		d.bad.Add(1)
		d.reads.Put(hal.BadgeEvent{}, &FrameError{len(frame), fmt.Sprintf("%d edges lost by the source", dropped)})
		return
	}
	// sort.SliceStable: one copy of the sort for every element type (a
	// generic sort compiles one per type).
	sort.SliceStable(frame, func(i, j int) bool { return frame[i].At < frame[j].At })
	bits := make([]uint8, len(frame))
	for i, e := range frame {
		bits[i] = uint8(e.Line)
	}
	ev, err := Decode(bits)
	if err != nil {
		d.bad.Add(1)
		if len(bits) > maxBits {
			err = &FrameError{len(bits), fmt.Sprintf("longer than %d bits", maxBits)}
		}
	} else {
		ev.Time = time.Now()
	}
	d.reads.Put(ev, err)
}
