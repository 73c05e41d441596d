package board

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/host/v3/bcm283x"
	"periph.io/x/host/v3/gpioioctl"

	"timeclock/hal"
	"timeclock/hal/wiegand"
)

// openWiegand opens a Wiegand reader. When both data lines are lines of
// one GPIO character device, board requests them itself, together, with
// the GPIO v2 uAPI (lineRequest): one kernel queue gives both lines' edges
// in order, with the kernel's timestamps and sequence numbers. Should that
// request fail, periph's gpioioctl.LineSet is tried (one queue, but no
// timestamps), then the two-goroutine pin pair, which is also what pins
// periph does not drive through the character device get. Why a fallback
// was taken is logged, once, here.
func openWiegand(d0, d1 gpio.PinIO, log *slog.Logger) (*wiegand.Dev, error) {
	c0, l0 := ioctlLine(d0)
	c1, l1 := ioctlLine(d1)
	if c0 == nil || c0 != c1 || l0 == l1 {
		return wiegand.New(d0, d1, nil)
	}
	name := fmt.Sprintf("%s:%s,%s", c0.Name(), l0.Name(), l1.Name())
	req, err := openLineRequest(c0.Path(), name, l0.Number(), l1.Number())
	if err == nil {
		return startSource(req)
	}
	chip, l0, l1, ok := sameChip(d0, d1)
	if !ok {
		log.Warn(fmt.Sprintf("wiegand %s: kernel line request -> pin pair (%v; lines not requestable by name as a LineSet): bits ordered by arrival", name, err))
		return wiegand.New(d0, d1, nil)
	}
	log.Warn(fmt.Sprintf("wiegand %s: kernel line request -> periph LineSet (%v): kernel order, but frames end by read time and lost events go unseen", name, err))
	ls, err := chip.LineSet(gpioioctl.LineInput, gpio.FallingEdge, gpio.PullUp, l0.Name(), l1.Name())
	if err != nil {
		return nil, fmt.Errorf("wiegand: request %s and %s on %s together: %w", l0.Name(), l1.Name(), chip.Name(), err)
	}
	return startSource(newLineSetSource(ls, name, l0.Number(), l1.Number()))
}

// startSource starts the driver on src, or releases src.
func startSource(src wiegand.Source) (*wiegand.Dev, error) {
	d, err := wiegand.NewSource(src, nil)
	if err != nil {
		return nil, errors.Join(err, src.Close())
	}
	return d, nil
}

// sameChip finds the character-device lines behind two pins, when both are
// on one chip and can be requested by name.
func sameChip(p0, p1 gpio.PinIO) (chip *gpioioctl.GPIOChip, l0, l1 *gpioioctl.GPIOLine, ok bool) {
	c0, l0 := ioctlLine(p0)
	c1, l1 := ioctlLine(p1)
	if c0 == nil || c0 != c1 {
		return nil, nil, nil, false
	}
	// LineSet requests lines by name: each must name itself alone.
	if c0.ByName(l0.Name()) != l0 || c0.ByName(l1.Name()) != l1 || l0 == l1 {
		return nil, nil, nil, false
	}
	return c0, l0, l1, true
}

// ioctlLine finds the chip and line of periph's GPIO character-device
// driver behind a resolved pin: a gpioioctl line itself, or the line
// bcm283x pins wait for edges on (periph's bcm283x maps pin N to line N of
// the first chip).
func ioctlLine(p gpio.PinIO) (*gpioioctl.GPIOChip, *gpioioctl.GPIOLine) {
	real := p
	for {
		r, ok := real.(gpio.RealPin)
		if !ok {
			break
		}
		real = r.Real()
	}
	switch r := real.(type) {
	case *gpioioctl.GPIOLine:
		for _, c := range gpioioctl.Chips {
			for _, l := range c.Lines() {
				if l == r {
					return c, l
				}
			}
		}
	case *bcm283x.Pin:
		if len(gpioioctl.Chips) > 0 {
			if lines := gpioioctl.Chips[0].Lines(); r.Number() >= 0 && r.Number() < len(lines) {
				return gpioioctl.Chips[0], lines[r.Number()]
			}
		}
	}
	return nil, nil
}

// lineEvents is what lineSetSource needs of a gpioioctl.LineSet.
type lineEvents interface {
	// WaitForEdge returns the chip line number and edge of the next event
	// in the request's kernel queue. gpioioctl: 0 waits forever, a negative
	// timeout returns at once without reading.
	WaitForEdge(timeout time.Duration) (number int, edge gpio.Edge, err error)
	Halt() error
	Close() error
}

var _ lineEvents = (*gpioioctl.LineSet)(nil)

// lineSetSource is a wiegand.Source over one line request holding D0 and
// D1: the kernel queues both lines' events in one FIFO, so they arrive in
// the order they happened, whatever the scheduling.
//
// It is the fallback for when board's own request (lineRequest) fails.
// periph v3.8.5's LineSet.WaitForEdge reads the kernel's event but drops
// its timestamp and sequence numbers, so edges are stamped as they are
// read (a stall of the agent mid-frame can split a frame), and the
// request keeps the kernel's default queue of 16 events per line, whose
// overflow goes unseen. The order, which is what decides the card number,
// is the kernel's all the same.
type lineSetSource struct {
	ls     lineEvents
	name   string
	number [2]int // chip line numbers of D0 and D1
	start  time.Time
}

func newLineSetSource(ls lineEvents, name string, d0, d1 int) *lineSetSource {
	// A wait that returns at once sets up the request's event file here,
	// before any reader goroutine, so a later Halt (which interrupts a
	// wait only once that file exists) never races with its creation.
	ls.WaitForEdge(-1)
	return &lineSetSource{ls: ls, name: name, number: [2]int{d0, d1}, start: time.Now()}
}

// NextEdge returns the next edge of D0 or D1 in the kernel's order.
func (s *lineSetSource) NextEdge() (wiegand.Edge, error) {
	for {
		n, e, err := s.ls.WaitForEdge(0)
		if err != nil {
			return wiegand.Edge{}, fmt.Errorf("%s: %w", s, err)
		}
		at := time.Since(s.start)
		for line, num := range s.number {
			if n == num {
				return wiegand.Edge{Line: line, Edge: e, At: at}, nil
			}
		}
		// An event of a line not in the request cannot happen; skip it.
	}
}

// Halt interrupts a pending NextEdge.
func (s *lineSetSource) Halt() error { return s.ls.Halt() }

// Close releases both lines.
func (s *lineSetSource) Close() error { return s.ls.Close() }

func (s *lineSetSource) String() string { return s.name }

// lineEventBuffer is how many events the kernel queues for the Wiegand
// request: 256 is about seven 37-bit frames. The kernel's default is 16
// per line, and on overflow it drops the oldest event.
const lineEventBuffer = 256

// lineRequest is a wiegand.Source over the kernel's own line request for
// D0 and D1 (requestEdges): the events of both lines come from one queue,
// each with the kernel's timestamp and the request-wide sequence number, so
// frames end by the time between kernel timestamps and lost events are
// seen as gaps in the sequence.
//
// It is a wiegand.QuietSource: being the only reader of the kernel's
// queue, it can tell a quiet line from a stall of its own (see read).
//
// NextEdge is called from one goroutine at a time (the driver's reader);
// Halt and Close may be called from any. Halt sets halted, then a read
// deadline in the past, which wakes a blocked read through Go's poller;
// NextEdge checks halted after setting its own deadline, so one of the two
// always sees the other. Close leaves closing the descriptor to os.File,
// which waits for a read still using it, so its number cannot be reused
// under a read.
type lineRequest struct {
	f      *os.File
	name   string
	halted atomic.Bool
	quiet  time.Duration // set before the first NextEdge; 0: no quiet marks

	// Only NextEdge uses these.
	dec   eventDecoder
	buf   []byte         // read buffer; buf[:part] is a partial record
	part  int            // bytes of a record not yet complete
	ev    []wiegand.Edge // decoded edges not yet returned
	next  int            // index of the next edge in ev
	armed bool           // an edge was returned since the last quiet mark
}

var _ wiegand.QuietSource = (*lineRequest)(nil)

// errQuiet is read's word for a queue that stayed empty for the quiet time.
var errQuiet = errors.New("quiet")

// openLineRequest requests the D0 and D1 lines (offsets on the chip at
// chipPath) and reads them as one source.
func openLineRequest(chipPath, name string, d0, d1 int) (*lineRequest, error) {
	f, err := requestEdges(chipPath, "timeclock-wiegand", lineEventBuffer, d0, d1)
	if err != nil {
		return nil, err
	}
	return newLineRequest(f, name, d0, d1), nil
}

// newLineRequest reads gpio_v2_line_event records from f, a line request
// holding D0 at chip offset d0 and D1 at d1 (or, in tests, a pipe).
func newLineRequest(f *os.File, name string, d0, d1 int) *lineRequest {
	return &lineRequest{
		f:    f,
		name: name,
		dec:  eventDecoder{offsets: [2]uint32{uint32(d0), uint32(d1)}, next: 1},
		buf:  make([]byte, 32*gpioV2LineEventSize),
	}
}

// SetQuiet makes NextEdge return a quiet mark once the kernel's queue
// stayed empty for d after an edge.
func (s *lineRequest) SetQuiet(d time.Duration) { s.quiet = d }

// NextEdge returns the next edge of D0 or D1 with the kernel's timestamp,
// or a quiet mark. After Halt it returns an error wrapping hal.ErrHalted.
func (s *lineRequest) NextEdge() (wiegand.Edge, error) {
	for s.next == len(s.ev) {
		n, err := s.read()
		if err == errQuiet {
			s.armed = false
			return wiegand.Edge{Quiet: true}, nil
		}
		if err != nil {
			return wiegand.Edge{}, fmt.Errorf("%s: %w", s, err)
		}
		// The kernel returns whole records; anything else (a pipe in
		// tests) keeps its tail for the next read.
		n += s.part
		whole := n - n%gpioV2LineEventSize
		s.ev = s.dec.decode(s.buf[:whole], s.ev[:0])
		s.next = 0
		s.part = copy(s.buf, s.buf[whole:n])
	}
	e := s.ev[s.next]
	s.next++
	s.armed = true
	return e, nil
}

// read reads what the kernel queued into buf[part:]. After an edge it
// waits at most the quiet time; errQuiet then says the queue is empty.
func (s *lineRequest) read() (int, error) {
	var deadline time.Time // none: wait for the next frame
	if s.quiet > 0 && s.armed {
		deadline = time.Now().Add(s.quiet)
	}
	if err := s.f.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	if s.halted.Load() {
		return 0, hal.ErrHalted
	}
	n, err := s.f.Read(s.buf[s.part:])
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return n, err
	}
	if s.halted.Load() {
		return 0, hal.ErrHalted
	}
	// The quiet time is up, by the wall clock: if this goroutine stalled
	// meanwhile, the rest of the frame may be queued all the same. Only
	// this goroutine reads the queue, so one read that does not wait
	// tells.
	n, err = s.readNow()
	if n == 0 && err == nil {
		return 0, errQuiet
	}
	return n, err
}

// readNow reads what is queued without waiting (and without the poller,
// whose deadline has passed): 0 and no error for an empty queue.
func (s *lineRequest) readNow() (n int, err error) {
	rc, err := s.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	cerr := rc.Control(func(fd uintptr) {
		for {
			n, err = unix.Read(int(fd), s.buf[s.part:])
			if err != unix.EINTR {
				return
			}
		}
	})
	switch {
	case cerr != nil:
		return 0, cerr
	case err == unix.EAGAIN:
		return 0, nil
	case err != nil:
		return 0, err
	case n == 0: // a pipe's writer closed (tests); a line request never ends
		return 0, io.EOF
	}
	return n, nil
}

// Halt interrupts a pending NextEdge and makes later ones return at once.
func (s *lineRequest) Halt() error {
	s.halted.Store(true)
	if err := s.f.SetReadDeadline(time.Unix(0, 1)); err != nil {
		return fmt.Errorf("%s: halt: %w", s, err)
	}
	return nil
}

// Close releases both lines.
func (s *lineRequest) Close() error { return s.f.Close() }

func (s *lineRequest) String() string { return s.name }

// eventDecoder turns one line request's gpio_v2_line_event records into
// edges and finds the events the kernel dropped.
type eventDecoder struct {
	offsets [2]uint32 // chip offsets of D0 and D1
	next    uint32    // the request-wide seqno expected next; the kernel's first is 1
	carry   int       // drops seen on events that were not D0/D1 edges
}

// decode appends the edges of recs, whole records in native byte order,
// to out.
//
// The kernel numbers an event in its hard interrupt handler and queues it
// later from the line's interrupt thread, so on a multi-core board an
// event of one line can be queued just after a higher-numbered one of the
// other line. Records read together are therefore put in seqno order
// first; a seqno below the expected one is such a late event, not a loss.
// A seqno above it means the kernel's queue overflowed and dropped the
// events in between: the edge after them carries the count in Dropped.
// (The driver sorts each frame by timestamp, so delivery order itself does
// not matter.)
func (d *eventDecoder) decode(recs []byte, out []wiegand.Edge) []wiegand.Edge {
	evs := make([]gpioV2LineEvent, 0, len(recs)/gpioV2LineEventSize)
	for len(recs) >= gpioV2LineEventSize {
		evs = append(evs, parseLineEvent(recs[:gpioV2LineEventSize]))
		recs = recs[gpioV2LineEventSize:]
	}
	// sort.SliceStable: one copy of the sort for every element type.
	sort.SliceStable(evs, func(i, j int) bool { return int32(evs[i].Seqno-evs[j].Seqno) < 0 })
	for _, ev := range evs {
		if ahead := int32(ev.Seqno - d.next); ahead >= 0 { // wraps like the kernel's u32
			d.carry += int(ahead)
			d.next = ev.Seqno + 1
		}
		line := slices.Index(d.offsets[:], ev.Offset)
		var edge gpio.Edge
		switch ev.ID {
		case gpioV2LineEventFallingEdge:
			edge = gpio.FallingEdge
		case gpioV2LineEventRisingEdge:
			edge = gpio.RisingEdge
		}
		if line < 0 || edge == gpio.NoEdge {
			continue // not requested; a drop before it goes with the next edge
		}
		out = append(out, wiegand.Edge{Line: line, Edge: edge, At: time.Duration(ev.TimestampNs), Dropped: d.carry})
		d.carry = 0
	}
	return out
}

// parseLineEvent reads one struct gpio_v2_line_event.
func parseLineEvent(b []byte) gpioV2LineEvent {
	ne := binary.NativeEndian
	return gpioV2LineEvent{
		TimestampNs: ne.Uint64(b[0:]),
		ID:          ne.Uint32(b[8:]),
		Offset:      ne.Uint32(b[12:]),
		Seqno:       ne.Uint32(b[16:]),
		LineSeqno:   ne.Uint32(b[20:]),
	}
}
