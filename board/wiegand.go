package board

import (
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/host/v3/bcm283x"
	"periph.io/x/host/v3/gpioioctl"

	"timeclock/hal/wiegand"
)

// openWiegand opens a Wiegand reader. When both data lines are lines of
// one GPIO character device, they are requested together as one
// gpioioctl.LineSet, whose single event stream gives the two lines' edges
// in the kernel's order; the two-goroutine pin pair is the fallback for
// pins periph does not drive through the character device.
func openWiegand(d0, d1 gpio.PinIO) (*wiegand.Dev, error) {
	chip, l0, l1, ok := sameChip(d0, d1)
	if !ok {
		return wiegand.New(d0, d1, nil)
	}
	ls, err := chip.LineSet(gpioioctl.LineInput, gpio.FallingEdge, gpio.PullUp, l0.Name(), l1.Name())
	if err != nil {
		return nil, fmt.Errorf("wiegand: request %s and %s on %s together: %w", l0.Name(), l1.Name(), chip.Name(), err)
	}
	src := newLineSetSource(ls, fmt.Sprintf("%s:%s,%s", chip.Name(), l0.Name(), l1.Name()), l0.Number(), l1.Number())
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
// periph v3.8.5's LineSet.WaitForEdge reads the kernel's event but drops
// its timestamp, so edges are stamped as they are read; the order, which
// is what decides the card number, is the kernel's all the same.
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
