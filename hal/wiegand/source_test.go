package wiegand

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"timeclock/hal"
	"timeclock/hal/haltest"
)

// fakeSource is a Source the test feeds: one stream of both lines' edges,
// as a kernel line request holding both lines gives them.
type fakeSource struct {
	edges   chan Edge
	halted  chan struct{}
	haltOne sync.Once
	mu      sync.Mutex
	closed  int // guarded by mu; Close calls
}

func newFakeSource() *fakeSource {
	return &fakeSource{edges: make(chan Edge), halted: make(chan struct{})}
}

func (s *fakeSource) NextEdge() (Edge, error) {
	select {
	case e := <-s.edges:
		return e, nil
	case <-s.halted:
		return Edge{}, hal.ErrHalted
	}
}

func (s *fakeSource) Halt() error {
	s.haltOne.Do(func() { close(s.halted) })
	return nil
}

func (s *fakeSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed++
	return nil
}

func (s *fakeSource) String() string { return "fake(D0,D1)" }

// push hands the driver an edge; it returns once the driver took it.
func (s *fakeSource) push(t testing.TB, e Edge) {
	t.Helper()
	select {
	case s.edges <- e:
	case <-time.After(haltest.Deadline):
		t.Fatalf("driver did not take edge %+v", e)
	}
}

// sync returns once every edge pushed so far has reached the assembler:
// the driver takes the next edge (a rising one, never a bit) only after it
// handed the last one on.
func (s *fakeSource) sync(t testing.TB) {
	t.Helper()
	s.push(t, Edge{Line: 0, Edge: gpio.RisingEdge})
}

// frame pushes a frame's bits as falling edges 2 ms apart from start, each
// followed by the rising edge that ends its pulse.
func (s *fakeSource) frame(t testing.TB, bits []uint8, start time.Duration) {
	t.Helper()
	for i, b := range bits {
		at := start + time.Duration(i)*2*time.Millisecond
		s.push(t, Edge{Line: int(b), Edge: gpio.FallingEdge, At: at})
		s.push(t, Edge{Line: int(b), Edge: gpio.RisingEdge, At: at + 50*time.Microsecond})
	}
}

type sourceRig struct {
	d   *Dev
	src *fakeSource
	at  time.Duration // the next frame's first timestamp
}

func newSourceRig(t *testing.T, o *Opts) *sourceRig {
	t.Helper()
	r := &sourceRig{src: newFakeSource()}
	if o == nil {
		o = &Opts{Timeout: time.Hour} // frames end by flush
	}
	d, err := NewSource(r.src, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	r.d = d
	return r
}

// send pushes a frame and ends it as the timeout would.
func (r *sourceRig) send(t testing.TB, bits []uint8) {
	t.Helper()
	r.src.frame(t, bits, r.at)
	r.at += 300 * time.Millisecond
	r.src.sync(t)
	(&rig{d: r.d}).end(t)
}

func TestSuiteOverSource(t *testing.T) {
	haltest.BadgeReader(t, func(t *testing.T) haltest.BadgeHarness {
		r := newSourceRig(t, nil)
		return haltest.BadgeHarness{
			Dev: r.d,
			Swipe: func(t testing.TB, i int) hal.BadgeEvent {
				f, err := Encode(34, uint32(100+i), uint64(2000+i))
				if err != nil {
					t.Fatal(err)
				}
				r.send(t, f)
				return hal.BadgeEvent{Format: hal.FormatWiegand34, Facility: uint32(100 + i), Number: strconv.Itoa(2000 + i)}
			},
			Bad: func(t testing.TB) {
				f, _ := Encode(34, 1, 2)
				f[30] ^= 1
				r.send(t, f)
			},
		}
	})
}

// Two frames handed over back to back, with no pause at all, are two
// frames when the kernel's timestamps put them more than Timeout apart;
// one frame's bits are one frame however slowly they are handed over.
func TestFrameEndsByTimestamps(t *testing.T) {
	const timeout = time.Hour // the wall-clock wait never ends a frame here
	r := newSourceRig(t, &Opts{Timeout: timeout})
	a, _ := Encode(26, 1, 111)
	b, _ := Encode(37, 2, 222)
	r.src.frame(t, a, 0)
	r.src.frame(t, b, 2*timeout) // handed over at once, stamped later
	r.src.sync(t)
	(&rig{d: r.d}).end(t)
	for _, want := range []struct {
		fc uint32
		cn string
	}{{1, "111"}, {2, "222"}} {
		ev, err := read(t, r.d)
		if err != nil || ev.Facility != want.fc || ev.Number != want.cn {
			t.Fatalf("read %+v, %v; want facility %d card %s", ev, err, want.fc, want.cn)
		}
	}
	if n := r.d.BadFrames(); n != 0 {
		t.Fatalf("BadFrames = %d, want 0", n)
	}
}

// A source delivers in the kernel's order; should it ever hand over an
// edge after a later one, the timestamps still put the bits right.
func TestSourceOrdersByTimestamps(t *testing.T) {
	r := newSourceRig(t, nil)
	f, _ := Encode(26, 0x5A, 0xA5C3)
	i := 1 // bits 1 and 2 differ (0 1): swapped, the parity holds
	if f[i] == f[i+1] {
		t.Fatalf("bits %d and %d of %v are equal", i, i+1, f)
	}
	edges := make([]Edge, len(f))
	for j, b := range f {
		edges[j] = Edge{Line: int(b), Edge: gpio.FallingEdge, At: time.Duration(j) * 2 * time.Millisecond}
	}
	edges[i], edges[i+1] = edges[i+1], edges[i]
	for _, e := range edges {
		r.src.push(t, e)
	}
	r.src.sync(t)
	(&rig{d: r.d}).end(t)
	if ev, err := read(t, r.d); err != nil || ev.Facility != 0x5A || ev.Number != strconv.Itoa(0xA5C3) {
		t.Fatalf("read %+v, %v; want facility %d card %d", ev, err, 0x5A, 0xA5C3)
	}
}

func TestHaltClosesSource(t *testing.T) {
	r := newSourceRig(t, nil)
	if err := r.d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := r.d.Halt(); err != nil {
		t.Fatal(err)
	}
	r.src.mu.Lock()
	defer r.src.mu.Unlock()
	if r.src.closed != 1 {
		t.Fatalf("source closed %d times, want once", r.src.closed)
	}
}

// Whatever order the edges are handed over in, the timestamps give the
// frame back: every delivery order of a 37-bit frame reads as the card.
func TestAnyDeliveryOrder(t *testing.T) {
	r := newSourceRig(t, nil)
	f, _ := Encode(37, 0xBEEF, 0x5A5A5)
	for seed := range uint64(20) {
		edges := make([]Edge, len(f))
		for j, b := range f {
			edges[j] = Edge{Line: int(b), Edge: gpio.FallingEdge, At: r.at + time.Duration(j)*time.Millisecond}
		}
		r.at += 300 * time.Millisecond
		rand.New(rand.NewPCG(seed, 19)).Shuffle(len(edges), func(i, j int) { edges[i], edges[j] = edges[j], edges[i] })
		for _, e := range edges {
			r.src.push(t, e)
		}
		r.src.sync(t)
		(&rig{d: r.d}).end(t)
		if ev, err := read(t, r.d); err != nil || ev.Facility != 0xBEEF || ev.Number != strconv.Itoa(0x5A5A5) {
			t.Fatalf("seed %d: read %+v, %v", seed, ev, err)
		}
	}
}

// An edge after lost ones (the kernel's queue overflowed) rejects the frame
// it belongs to, even when the bits that arrived would decode: a lost bit
// must never leave a badge behind. The next frame reads again.
func TestDroppedEdgesRejectTheFrame(t *testing.T) {
	r := newSourceRig(t, nil)
	f, _ := Encode(26, 12, 3456)
	for i, b := range f {
		e := Edge{Line: int(b), Edge: gpio.FallingEdge, At: time.Duration(i) * 2 * time.Millisecond}
		if i == 10 {
			e.Dropped = 1
		}
		r.src.push(t, e)
	}
	r.src.sync(t)
	(&rig{d: r.d}).end(t)
	if ev, err := read(t, r.d); !errors.Is(err, hal.ErrBadFrame) {
		t.Fatalf("read %+v, %v; want a bad frame", ev, err)
	}
	r.at = time.Second
	r.send(t, f)
	if ev, err := read(t, r.d); err != nil || ev.Facility != 12 || ev.Number != "3456" {
		t.Fatalf("next frame read %+v, %v", ev, err)
	}
	if n := r.d.BadFrames(); n != 1 {
		t.Fatalf("BadFrames = %d, want 1", n)
	}
}

// Edges lost between two frames may be the first frame's tail or the
// second's head: both are rejected, the frame after them reads.
func TestDroppedEdgesBetweenFramesRejectBoth(t *testing.T) {
	const timeout = time.Hour // frames end by timestamps and flush
	r := newSourceRig(t, &Opts{Timeout: timeout})
	a, _ := Encode(26, 1, 111)
	b, _ := Encode(26, 2, 222)
	c, _ := Encode(26, 3, 333)
	r.src.frame(t, a, 0)
	r.src.push(t, Edge{Line: int(b[0]), Edge: gpio.FallingEdge, At: 2 * timeout, Dropped: 3})
	r.src.frame(t, b[1:], 2*timeout+2*time.Millisecond)
	r.src.frame(t, c, 4*timeout)
	r.src.sync(t)
	(&rig{d: r.d}).end(t)
	for i := range 2 {
		if ev, err := read(t, r.d); !errors.Is(err, hal.ErrBadFrame) {
			t.Fatalf("frame %d read %+v, %v; want a bad frame", i, ev, err)
		}
	}
	if ev, err := read(t, r.d); err != nil || ev.Facility != 3 || ev.Number != "333" {
		t.Fatalf("third frame read %+v, %v", ev, err)
	}
	if n := r.d.BadFrames(); n != 2 {
		t.Fatalf("BadFrames = %d, want 2", n)
	}
}

// quietSource is a fakeSource that ends frames with quiet marks.
type quietSource struct {
	*fakeSource
	quiet chan time.Duration // SetQuiet's argument
}

func (s *quietSource) SetQuiet(d time.Duration) { s.quiet <- d }

// A QuietSource's frames end at its quiet marks and by timestamps, never
// by the wall clock: a reader that stalls mid-frame for far longer than
// Timeout, with the rest of the frame still queued, does not cut the frame.
func TestQuietSourceEndsFrames(t *testing.T) {
	const timeout = time.Millisecond
	src := &quietSource{fakeSource: newFakeSource(), quiet: make(chan time.Duration, 1)}
	d, err := NewSource(src, &Opts{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Halt()
	if q := <-src.quiet; q != timeout {
		t.Fatalf("SetQuiet(%v), want the timeout %v", q, timeout)
	}
	f, _ := Encode(37, 0xBEEF, 0x5A5A5)
	edge := func(i int) Edge {
		return Edge{Line: int(f[i]), Edge: gpio.FallingEdge, At: time.Duration(i) * 100 * time.Microsecond}
	}
	for i := range 34 { // a 34-bit prefix: may pass the 34-bit parity
		src.push(t, edge(i))
	}
	// The stall: many timeouts long. Nothing may end the frame here; a
	// driver that does shows it as a read below.
	ctx, cancel := context.WithTimeout(context.Background(), 50*timeout)
	ev, err := d.ReadBadge(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("during the stall read %+v, %v; want nothing", ev, err)
	}
	for i := 34; i < len(f); i++ {
		src.push(t, edge(i))
	}
	src.push(t, Edge{Quiet: true})
	if ev, err := read(t, d); err != nil || ev.Format != hal.FormatWiegand37 || ev.Facility != 0xBEEF || ev.Number != strconv.Itoa(0x5A5A5) {
		t.Fatalf("read %+v, %v; want the 37-bit card", ev, err)
	}
	if n := d.BadFrames(); n != 0 {
		t.Fatalf("BadFrames = %d, want 0", n)
	}
}
