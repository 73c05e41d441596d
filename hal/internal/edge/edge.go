// Package edge waits for edges on a GPIO input the way the interrupt-driven
// drivers (matrix keypad columns, Wiegand data lines) need it: blocking
// until an edge, and returning once the driver is halted.
package edge

import (
	"time"

	"periph.io/x/conn/v3/gpio"
)

// retry is the pause after a failed wait, so a failing pin does not spin.
const retry = 100 * time.Millisecond

// Wait blocks until p sees an edge and reports true, or reports false once
// done is closed. Halting a pin interrupts its WaitForEdge; a wait that
// returns without an edge (interrupted, or the pin failed) is retried after
// a pause.
func Wait(done <-chan struct{}, p gpio.PinIn) bool {
	for {
		select {
		case <-done:
			return false
		default:
		}
		if p.WaitForEdge(-1) {
			return true
		}
		select {
		case <-done:
			return false
		case <-time.After(retry):
		}
	}
}
