package board

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"timeclock/hal"
	"timeclock/hal/haltest"
	"timeclock/hal/wiegand"
)

// kernelEvent is one struct gpio_v2_line_event as the kernel writes it.
type kernelEvent struct {
	ts            uint64 // timestamp_ns
	id            uint32
	offset, seqno uint32
}

// encode appends the event's 48 bytes in the native byte order.
func (e kernelEvent) encode(b []byte) []byte {
	rec := make([]byte, gpioV2LineEventSize)
	ne := binary.NativeEndian
	ne.PutUint64(rec[0:], e.ts)
	ne.PutUint32(rec[8:], e.id)
	ne.PutUint32(rec[12:], e.offset)
	ne.PutUint32(rec[16:], e.seqno)
	ne.PutUint32(rec[20:], 0xdead) // line_seqno: not used
	return append(b, rec...)
}

func encodeAll(evs ...kernelEvent) []byte {
	var b []byte
	for _, e := range evs {
		b = e.encode(b)
	}
	return b
}

const (
	offD0 = 17 // chip offsets of D0 and D1 in these tests (GPIO17, GPIO27)
	offD1 = 27
	fall  = gpioV2LineEventFallingEdge
	rise  = gpioV2LineEventRisingEdge
)

func TestEventDecoder(t *testing.T) {
	ms := uint64(time.Millisecond)
	type want struct {
		line    int
		at      time.Duration
		dropped int
	}
	for _, c := range []struct {
		name  string
		start uint32 // seqno expected first; 0 means the kernel's 1
		reads [][]kernelEvent
		want  []want
	}{
		{
			name:  "in order",
			reads: [][]kernelEvent{{{1 * ms, fall, offD1, 1}, {3 * ms, fall, offD0, 2}, {5 * ms, fall, offD1, 3}}},
			want:  []want{{1, time.Millisecond, 0}, {0, 3 * time.Millisecond, 0}, {1, 5 * time.Millisecond, 0}},
		},
		{
			name:  "a seqno gap is dropped events, reported on the edge after them",
			reads: [][]kernelEvent{{{1 * ms, fall, offD0, 1}, {2 * ms, fall, offD0, 2}, {9 * ms, fall, offD1, 5}, {10 * ms, fall, offD1, 6}}},
			want:  []want{{0, time.Millisecond, 0}, {0, 2 * time.Millisecond, 0}, {1, 9 * time.Millisecond, 2}, {1, 10 * time.Millisecond, 0}},
		},
		{
			name:  "events lost before the first read",
			reads: [][]kernelEvent{{{7 * ms, fall, offD0, 4}}},
			want:  []want{{0, 7 * time.Millisecond, 3}},
		},
		{
			name:  "queued out of seqno order within one read: put in order, nothing lost",
			reads: [][]kernelEvent{{{2 * ms, fall, offD1, 2}, {1 * ms, fall, offD0, 1}, {3 * ms, fall, offD0, 3}}},
			want:  []want{{0, time.Millisecond, 0}, {1, 2 * time.Millisecond, 0}, {0, 3 * time.Millisecond, 0}},
		},
		{
			// Indistinguishable from a loss when read, so the frame is
			// rejected (swipe again); the late event is no second loss.
			name:  "an event queued late across reads",
			reads: [][]kernelEvent{{{1 * ms, fall, offD0, 1}, {3 * ms, fall, offD0, 3}}, {{2 * ms, fall, offD1, 2}}, {{4 * ms, fall, offD1, 4}}},
			want:  []want{{0, time.Millisecond, 0}, {0, 3 * time.Millisecond, 1}, {1, 2 * time.Millisecond, 0}, {1, 4 * time.Millisecond, 0}},
		},
		{
			name:  "seqno wraps around",
			start: 0xFFFFFFFF,
			reads: [][]kernelEvent{{{1 * ms, fall, offD0, 0xFFFFFFFF}, {2 * ms, fall, offD1, 0}, {3 * ms, fall, offD0, 1}}},
			want:  []want{{0, time.Millisecond, 0}, {1, 2 * time.Millisecond, 0}, {0, 3 * time.Millisecond, 0}},
		},
		{
			name:  "a loss before an event of another line goes with the next edge",
			reads: [][]kernelEvent{{{1 * ms, fall, offD0, 1}, {2 * ms, fall, 5, 3}, {3 * ms, 0, offD1, 4}, {4 * ms, fall, offD1, 5}}},
			want:  []want{{0, time.Millisecond, 0}, {1, 4 * time.Millisecond, 1}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := eventDecoder{offsets: [2]uint32{offD0, offD1}, next: 1}
			if c.start != 0 {
				d.next = c.start
			}
			var got []wiegand.Edge
			for _, r := range c.reads {
				got = d.decode(encodeAll(r...), got)
			}
			if len(got) != len(c.want) {
				t.Fatalf("edges %+v; want %+v", got, c.want)
			}
			for i, w := range c.want {
				g := got[i]
				if g.Line != w.line || g.Edge != gpio.FallingEdge || g.At != w.at || g.Dropped != w.dropped {
					t.Fatalf("edge %d = %+v; want %+v (all: %+v)", i, g, w, got)
				}
			}
		})
	}
}

// pipeRequest is a lineRequest reading a pipe the test writes records to,
// as the kernel writes them to a line request's file.
func pipeRequest(t *testing.T) (*lineRequest, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return newLineRequest(r, "gpiochip0:GPIO17,GPIO27", offD0, offD1), w
}

func TestLineRequestReadsRecords(t *testing.T) {
	src, w := pipeRequest(t)
	defer src.Close()
	b := encodeAll(
		kernelEvent{1000, fall, offD1, 1},
		kernelEvent{2000, rise, offD1, 2},
		kernelEvent{3000, fall, offD0, 4},
	)
	// A record split across writes is read whole.
	for _, part := range [][]byte{b[:70], b[70:100], b[100:]} {
		if _, err := w.Write(part); err != nil {
			t.Fatal(err)
		}
	}
	want := []wiegand.Edge{
		{Line: 1, Edge: gpio.FallingEdge, At: 1000},
		{Line: 1, Edge: gpio.RisingEdge, At: 2000},
		{Line: 0, Edge: gpio.FallingEdge, At: 3000, Dropped: 1},
	}
	for i, wt := range want {
		e, err := src.NextEdge()
		if err != nil || e != wt {
			t.Fatalf("edge %d = %+v, %v; want %+v", i, e, err, wt)
		}
	}
}

// Halt wakes a NextEdge blocked in read(2), whether it waits for the next
// frame (no deadline) or for the quiet time after an edge (a deadline of
// its own), and later ones return at once; Close after that releases the
// file.
func TestLineRequestHaltUnblocksRead(t *testing.T) {
	for _, quiet := range []time.Duration{0, time.Hour} {
		t.Run("quiet="+quiet.String(), func(t *testing.T) {
			src, w := pipeRequest(t)
			src.SetQuiet(quiet)
			if _, err := w.Write(encodeAll(kernelEvent{1000, fall, offD0, 1})); err != nil {
				t.Fatal(err)
			}
			type result struct {
				e   wiegand.Edge
				err error
			}
			got := make(chan result)
			read := func() {
				e, err := src.NextEdge()
				got <- result{e, err}
			}
			go func() {
				read() // the edge written above
				read() // blocks: nothing more is written
			}()
			wait := func() result {
				t.Helper()
				select {
				case r := <-got:
					return r
				case <-time.After(haltest.Deadline):
					t.Fatal("NextEdge still blocked")
					return result{}
				}
			}
			if r := wait(); r.err != nil {
				t.Fatal(r.err)
			}
			if err := src.Halt(); err != nil {
				t.Fatal(err)
			}
			if r := wait(); !errors.Is(r.err, hal.ErrHalted) {
				t.Fatalf("blocked NextEdge after Halt = %+v, %v; want hal.ErrHalted", r.e, r.err)
			}
			if _, err := src.NextEdge(); !errors.Is(err, hal.ErrHalted) {
				t.Fatalf("NextEdge after Halt = %v; want hal.ErrHalted", err)
			}
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// After an edge, a queue that stays empty for the quiet time gives one
// quiet mark; then NextEdge waits for the next edge.
func TestLineRequestQuietMark(t *testing.T) {
	src, w := pipeRequest(t)
	defer src.Close()
	src.SetQuiet(5 * time.Millisecond)
	write := func(e kernelEvent) {
		t.Helper()
		if _, err := w.Write(encodeAll(e)); err != nil {
			t.Fatal(err)
		}
	}
	next := func() wiegand.Edge {
		t.Helper()
		e, err := src.NextEdge()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	write(kernelEvent{1000, fall, offD0, 1})
	if e := next(); e.Quiet || e.At != 1000 {
		t.Fatalf("first NextEdge = %+v; want the edge", e)
	}
	start := time.Now()
	if e := next(); !e.Quiet {
		t.Fatalf("NextEdge on an empty queue = %+v; want a quiet mark", e)
	}
	if waited := time.Since(start); waited < 5*time.Millisecond {
		t.Fatalf("quiet mark after %v; want after the quiet time, 5ms", waited)
	}
	// No second mark: the next NextEdge waits for the edge.
	got := make(chan wiegand.Edge)
	go func() { got <- next() }()
	write(kernelEvent{2000, fall, offD1, 2})
	select {
	case e := <-got:
		if e.Quiet || e.At != 2000 || e.Line != 1 {
			t.Fatalf("NextEdge after the mark = %+v; want the D1 edge", e)
		}
	case <-time.After(haltest.Deadline):
		t.Fatal("NextEdge after the mark never returned")
	}
}

// A reader that comes back after the quiet time (a stall: here a quiet
// time so short that it is over before the read) finds the events queued
// meanwhile and returns them, not a quiet mark.
func TestLineRequestStallIsNotQuiet(t *testing.T) {
	src, w := pipeRequest(t)
	defer src.Close()
	src.SetQuiet(time.Nanosecond)
	if _, err := w.Write(encodeAll(kernelEvent{1000, fall, offD0, 1})); err != nil {
		t.Fatal(err)
	}
	if e, err := src.NextEdge(); err != nil || e.Quiet {
		t.Fatalf("NextEdge = %+v, %v; want the edge", e, err)
	}
	if _, err := w.Write(encodeAll(kernelEvent{3000, fall, offD1, 2})); err != nil {
		t.Fatal(err)
	}
	if e, err := src.NextEdge(); err != nil || e.Quiet || e.At != 3000 {
		t.Fatalf("NextEdge after the stall = %+v, %v; want the queued edge", e, err)
	}
	if e, err := src.NextEdge(); err != nil || !e.Quiet {
		t.Fatalf("NextEdge on an empty queue = %+v, %v; want a quiet mark", e, err)
	}
}

// From kernel records to badges: the driver ends frames by the kernel's
// timestamps, whenever the records are read, and rejects a frame whose
// events the kernel dropped.
func TestLineRequestIntoWiegand(t *testing.T) {
	// Frames are written all at once, so only timestamps can end them,
	// and the quiet mark the last: however slowly this machine schedules
	// the reader, with the driver's default 25 ms.
	timeout := wiegand.DefaultOpts.Timeout
	src, w := pipeRequest(t)
	d, err := wiegand.NewSource(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Halt()

	var recs []byte
	seq := uint32(1)
	ts := uint64(5 * time.Second) // CLOCK_MONOTONIC: time since boot
	// frame writes a frame's bits 2 ms apart; after bit split it leaves
	// a pause of gap, and after bit skip the kernel's queue drops one
	// event (its seqno is missing, the bits are all there).
	frame := func(bits []uint8, split int, gap time.Duration, skip int) {
		for i, b := range bits {
			recs = kernelEvent{ts, fall, []uint32{offD0, offD1}[b], seq}.encode(recs)
			seq++
			ts += uint64(2 * time.Millisecond)
			if i == split {
				ts += uint64(gap)
			}
			if i == skip {
				seq++
			}
		}
		ts += uint64(time.Second) // between swipes
	}
	a, _ := wiegand.Encode(26, 12, 3456)
	b, _ := wiegand.Encode(26, 99, 4321)
	c, _ := wiegand.Encode(26, 7, 65535)
	frame(a, -1, 0, -1)
	frame(b, 12, timeout+time.Millisecond, -1) // split in two by the pause
	frame(c, -1, 0, 5)                         // an event lost
	frame(c, -1, 0, -1)
	if _, err := w.Write(recs); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), haltest.Deadline)
	defer cancel()
	for i, want := range []struct {
		fc  uint32
		cn  int
		bad bool
	}{{fc: 12, cn: 3456}, {bad: true}, {bad: true}, {bad: true}, {fc: 7, cn: 65535}} {
		ev, err := d.ReadBadge(ctx)
		if want.bad {
			if !errors.Is(err, hal.ErrBadFrame) {
				t.Fatalf("read %d = %+v, %v; want a bad frame", i, ev, err)
			}
			continue
		}
		if err != nil || ev.Facility != want.fc || ev.Number != strconv.Itoa(want.cn) || ev.Format != hal.FormatWiegand26 {
			t.Fatalf("read %d = %+v, %v; want wiegand26 facility %d card %d", i, ev, err, want.fc, want.cn)
		}
	}
	if n := d.BadFrames(); n != 3 {
		t.Fatalf("BadFrames = %d, want 3", n)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
}
