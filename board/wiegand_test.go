package board

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"timeclock/hal"
	"timeclock/hal/haltest"
	"timeclock/hal/wiegand"
)

type lineEvent struct {
	number int
	edge   gpio.Edge
}

// fakeLineSet is a gpioioctl.LineSet's event queue: one FIFO for every
// line of the request, as the kernel keeps it.
type fakeLineSet struct {
	events  chan lineEvent
	halted  chan struct{}
	haltOne sync.Once
	mu      sync.Mutex
	waits   []time.Duration // guarded by mu; WaitForEdge timeouts
	closed  int             // guarded by mu
}

func newFakeLineSet() *fakeLineSet {
	return &fakeLineSet{events: make(chan lineEvent, 128), halted: make(chan struct{})}
}

func (f *fakeLineSet) WaitForEdge(timeout time.Duration) (int, gpio.Edge, error) {
	f.mu.Lock()
	f.waits = append(f.waits, timeout)
	f.mu.Unlock()
	if timeout < 0 { // gpioioctl: a deadline in the past reads nothing
		return 0, gpio.NoEdge, os.ErrDeadlineExceeded
	}
	select {
	case e := <-f.events:
		return e.number, e.edge, nil
	case <-f.halted:
		return 0, gpio.NoEdge, os.ErrDeadlineExceeded
	}
}

func (f *fakeLineSet) Halt() error { f.haltOne.Do(func() { close(f.halted) }); return nil }

func (f *fakeLineSet) Close() error { f.mu.Lock(); f.closed++; f.mu.Unlock(); return nil }

// The source maps the chip's line numbers to D0 and D1 and keeps the
// kernel's order, rising edges included; the driver reads frames from it.
func TestLineSetSource(t *testing.T) {
	ls := newFakeLineSet()
	src := newLineSetSource(ls, "gpiochip0:GPIO17,GPIO27", 17, 27)
	if ls.waits[0] >= 0 {
		t.Fatalf("first wait %v; want one that returns at once, to set up the event file before any reader", ls.waits[0])
	}
	ls.events <- lineEvent{27, gpio.FallingEdge}
	ls.events <- lineEvent{27, gpio.RisingEdge}
	ls.events <- lineEvent{17, gpio.FallingEdge}
	var got []wiegand.Edge
	for range 3 {
		e, err := src.NextEdge()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	want := []wiegand.Edge{{Line: 1, Edge: gpio.FallingEdge}, {Line: 1, Edge: gpio.RisingEdge}, {Line: 0, Edge: gpio.FallingEdge}}
	for i := range want {
		if got[i].Line != want[i].Line || got[i].Edge != want[i].Edge || (i > 0 && got[i].At < got[i-1].At) {
			t.Fatalf("edges %+v; want lines and edges %+v in order", got, want)
		}
	}
	if ls.waits[1] != 0 {
		t.Fatalf("NextEdge waited with timeout %v; gpioioctl waits forever with 0", ls.waits[1])
	}
	src.Halt()
	if _, err := src.NextEdge(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("NextEdge after Halt = %v", err)
	}

	ls = newFakeLineSet()
	d, err := wiegand.NewSource(newLineSetSource(ls, "gpiochip0:GPIO17,GPIO27", 17, 27), &wiegand.Opts{Timeout: 25 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	frame, _ := wiegand.Encode(26, 12, 3456)
	ctx, cancel := context.WithTimeout(context.Background(), haltest.Deadline)
	defer cancel()
	// This source stamps edges as they are read, so on a loaded machine a
	// frame may split, which reads as bad frames; swipe again then, as a
	// person would.
	var ev hal.BadgeEvent
	for try := 0; ; try++ {
		for _, b := range frame { // queued at once: the driver reads them in the kernel's order
			ls.events <- lineEvent{[]int{17, 27}[b], gpio.FallingEdge}
		}
		if ev, err = d.ReadBadge(ctx); !errors.Is(err, hal.ErrBadFrame) || try == 5 {
			break
		}
	}
	if err != nil || ev.Facility != 12 || ev.Number != strconv.Itoa(3456) {
		t.Fatalf("read %v, %v", ev, err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.closed != 1 {
		t.Fatalf("lines released %d times, want once", ls.closed)
	}
}

// Pins that are not character-device lines keep the pin-pair reader.
func TestWiegandOnTestPinsIsAPinPair(t *testing.T) {
	d0, d1 := haltest.NewEdgePin("W_D0", 900, gpio.High), haltest.NewEdgePin("W_D1", 901, gpio.High)
	if c, l0, l1, ok := sameChip(d0, d1); ok {
		t.Fatalf("test pins found on chip %v as %v, %v", c, l0, l1)
	}
	d, err := openWiegand(d0, d1, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Halt()
	if got := d.String(); got != "wiegand(d0=W_D0,d1=W_D1)" {
		t.Fatalf("String() = %q", got)
	}
}
