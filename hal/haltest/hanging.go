package haltest

import (
	"sync"

	"timeclock/hal"
)

// HangingDisplay wraps a display so that Show blocks while it is held, as
// an LCD on a wedged I2C bus would: the watchdog tests use it to hang the
// loop that draws the screen.
type HangingDisplay struct {
	hal.Display
	mu   sync.Mutex
	gate chan struct{} // guarded by mu: nil, or closed to let Show through
}

// Hold makes every Show from now on block until Release.
func (d *HangingDisplay) Hold() {
	d.mu.Lock()
	d.gate = make(chan struct{})
	d.mu.Unlock()
}

// Release lets the blocked Shows through and the next ones pass.
func (d *HangingDisplay) Release() {
	d.mu.Lock()
	close(d.gate)
	d.gate = nil
	d.mu.Unlock()
}

// Show blocks while the display is held, then shows lines.
func (d *HangingDisplay) Show(lines []string) error {
	d.mu.Lock()
	g := d.gate
	d.mu.Unlock()
	if g != nil {
		<-g
	}
	return d.Display.Show(lines)
}
