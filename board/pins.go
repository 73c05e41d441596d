package board

import (
	"fmt"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3/bcm283x"
	"periph.io/x/host/v3/gpioioctl"
)

// pins resolves a model's pin names on this host.
type pins struct {
	model string
	byPin map[string]gpio.PinIO
}

// resolvePins looks every pin of the model up before anything is opened,
// so a host without them fails naming the first missing one (and how many
// more are missing) rather than half-opening the board.
func resolvePins(m Model) (*pins, error) {
	p := &pins{model: m.Name, byPin: map[string]gpio.PinIO{}}
	var missing []pinUse
	for _, u := range modelPins(m) {
		pin := gpioreg.ByName(u.pin)
		if pin == nil {
			missing = append(missing, u)
			continue
		}
		p.byPin[u.pin] = fixEdges(pin)
	}
	if len(missing) == 0 {
		return p, nil
	}
	u := missing[0]
	var more string
	if n := len(missing) - 1; n > 0 {
		var names []string
		for _, o := range missing[1:] {
			names = append(names, o.pin)
		}
		more = fmt.Sprintf("; %d more missing: %s", n, strings.Join(names, ", "))
	}
	hint := ""
	if len(gpioreg.All()) == 0 {
		hint = " (this host has no GPIO pins at all: is it the clock's board, and is there a /dev/gpiochip*?)"
	}
	return nil, fmt.Errorf("board %s: %s: GPIO pin %s not found on this host%s%s", m.Name, u.field, u.pin, more, hint)
}

// get returns a resolved pin; nil for an empty name.
func (p *pins) get(name string) gpio.PinIO {
	if name == "" {
		return nil
	}
	return p.byPin[name]
}

// modelPins lists the pins a model uses, in the order Validate checks them.
func modelPins(m Model) []pinUse {
	var v validator
	v.keypad(m.Keypad)
	for i, b := range m.Badges {
		v.badge(fmt.Sprintf("badges[%d]", i), b)
	}
	v.indicator(m.Indicator)
	return v.pins
}

// fixEdges wraps the pins of periph's GPIO character-device driver
// (gpioioctl, which bcm283x also waits on) so WaitForEdge keeps the
// periph.io/x/conn contract the drivers code against: there, -1 returns at
// once and 0 waits forever, the other way round.
func fixEdges(p gpio.PinIO) gpio.PinIO {
	real := p
	for {
		r, ok := real.(gpio.RealPin)
		if !ok {
			break
		}
		real = r.Real()
	}
	switch real.(type) {
	case *gpioioctl.GPIOLine, *bcm283x.Pin:
		return &ioctlPin{PinIO: p}
	}
	return p
}

// ioctlPin translates WaitForEdge timeouts for gpioioctl lines.
type ioctlPin struct {
	gpio.PinIO
}

// WaitForEdge waits forever for -1, polls for 0, as gpio.PinIn documents.
func (p *ioctlPin) WaitForEdge(timeout time.Duration) bool {
	switch {
	case timeout < 0:
		timeout = 0 // gpioioctl: forever
	case timeout == 0:
		timeout = time.Microsecond // gpioioctl: a deadline in the past reads nothing at all
	}
	return p.PinIO.WaitForEdge(timeout)
}

// Real returns the wrapped pin.
func (p *ioctlPin) Real() gpio.PinIO { return p.PinIO }
