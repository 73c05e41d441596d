// Package matrix drives a keypad wired as a matrix of rows and columns on
// GPIO lines. At rest every row is driven low and the driver blocks on a
// falling edge of any column (pulled up), so an idle keypad costs no CPU.
// A press wakes it; it then scans row by row every ScanPeriod until every
// key is up again, debouncing, and rejecting ambiguous (ghosted) scans.
package matrix

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"timeclock/hal"
	"timeclock/hal/internal/edge"
)

// Opts configures a keypad.
type Opts struct {
	// Layout names the key at each crossing, row by row: Layout[r*cols+c].
	Layout []hal.Key
	// ScanPeriod is the time between scans while a key is down.
	ScanPeriod time.Duration
	// Debounce is how many scans in a row must agree before a change
	// counts; Debounce*ScanPeriod must outlast contact bounce.
	Debounce int
	// Queue is how many presses may wait unread; more are dropped.
	Queue int
}

// DefaultOpts scans every 5 ms and settles after 4 agreeing scans (20 ms).
// Layout has no default: it depends on the keypad.
var DefaultOpts = Opts{ScanPeriod: 5 * time.Millisecond, Debounce: 4, Queue: 16}

// Dev is a matrix keypad.
type Dev struct {
	rows, cols []gpio.PinIO
	opts       Opts
	keys       chan hal.KeyEvent
	wake       chan struct{}
	done       chan struct{} // closed by Halt or a failing scan: goroutines end
	halted     chan struct{} // closed by Halt: reads return hal.ErrHalted
	closeDone  sync.Once
	wg         sync.WaitGroup
	halt       sync.Once
	haltErr    error

	mu      sync.Mutex
	scanErr error // guarded by mu; the scan loop's failure, if it stopped
	dropped int   // guarded by mu; presses dropped on a full queue
}

var _ hal.Keypad = (*Dev)(nil)

// New starts a keypad on row pins (driven) and column pins (read, with
// pull-ups and falling-edge detection). The pins' WaitForEdge must follow
// periph.io/x/conn: -1 waits forever, and Halt interrupts it.
func New(rows, cols []gpio.PinIO, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if len(rows) == 0 || len(cols) == 0 || len(rows) > maxLines || len(cols) > maxLines {
		return nil, fmt.Errorf("matrix: %d rows x %d columns (want 1-%d each)", len(rows), len(cols), maxLines)
	}
	if len(o.Layout) != len(rows)*len(cols) {
		return nil, fmt.Errorf("matrix: layout has %d keys for %dx%d", len(o.Layout), len(rows), len(cols))
	}
	if o.ScanPeriod <= 0 || o.Debounce < 1 {
		return nil, fmt.Errorf("matrix: scan period %v and debounce %d must be positive", o.ScanPeriod, o.Debounce)
	}
	if o.Queue < 1 {
		o.Queue = DefaultOpts.Queue
	}
	d := &Dev{
		rows: rows, cols: cols, opts: o,
		keys:   make(chan hal.KeyEvent, o.Queue),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		halted: make(chan struct{}),
	}
	for _, c := range cols {
		if err := c.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return nil, fmt.Errorf("matrix: column %s: %w", c, err)
		}
	}
	if err := d.driveRows(); err != nil {
		return nil, err
	}
	for _, c := range cols {
		d.wg.Add(1)
		go d.watch(c)
	}
	d.wg.Add(1)
	go d.run()
	return d, nil
}

func (d *Dev) String() string {
	return fmt.Sprintf("matrix(%dx%d)", len(d.rows), len(d.cols))
}

// ReadKey returns the next key pressed. After a pin failure it returns
// that failure (the keypad is dead until the board is opened again).
func (d *Dev) ReadKey(ctx context.Context) (hal.KeyEvent, error) {
	select {
	case <-d.halted:
		return hal.KeyEvent{}, hal.ErrHalted
	default:
	}
	select {
	case ev := <-d.keys:
		return ev, nil
	case <-ctx.Done():
		return hal.KeyEvent{}, ctx.Err()
	case <-d.halted:
		return hal.KeyEvent{}, hal.ErrHalted
	case <-d.done:
		d.mu.Lock()
		err := d.scanErr
		d.mu.Unlock()
		return hal.KeyEvent{}, fmt.Errorf("matrix: keypad stopped: %w", err)
	}
}

// Halt stops the keypad: the scan and edge-waiting goroutines end, rows are
// released (inputs) and edge detection is switched off.
func (d *Dev) Halt() error {
	d.halt.Do(func() {
		close(d.halted)
		d.stop()
		// A pin's Halt interrupts a pending WaitForEdge; keep kicking until
		// every watcher has noticed done, in case one was between checking
		// done and waiting again.
		exited := make(chan struct{})
		go func() { d.wg.Wait(); close(exited) }()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, c := range d.cols {
				c.Halt()
			}
			select {
			case <-exited:
			case <-tick.C:
				continue
			}
			break
		}
		var errs []error
		for _, r := range d.rows {
			if err := r.In(gpio.PullUp, gpio.NoEdge); err != nil {
				errs = append(errs, fmt.Errorf("row %s: %w", r, err))
			}
		}
		for _, c := range d.cols {
			if err := c.In(gpio.PullUp, gpio.NoEdge); err != nil {
				errs = append(errs, fmt.Errorf("column %s: %w", c, err))
			}
		}
		if err := errors.Join(errs...); err != nil {
			d.haltErr = fmt.Errorf("matrix: halt: %w", err)
		}
	})
	return d.haltErr
}

// stop ends the goroutines, from Halt or from a failing scan loop.
func (d *Dev) stop() { d.closeDone.Do(func() { close(d.done) }) }

// watch turns edges on one column into wake-ups for the scan loop.
func (d *Dev) watch(col gpio.PinIO) {
	defer d.wg.Done()
	for edge.Wait(d.done, col) {
		select {
		case d.wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// run sleeps until a column edge, then scans until every key is up.
func (d *Dev) run() {
	defer d.wg.Done()
	deb := debouncer{need: d.opts.Debounce, rows: len(d.rows)}
	tick := time.NewTimer(0)
	<-tick.C
	for {
		select {
		case <-d.done:
			return
		case <-d.wake:
		}
		for {
			scan, err := d.scan()
			if err != nil {
				d.fail(err)
				return
			}
			pressed, idle := deb.next(scan)
			pressed.each(d.emit)
			if idle {
				break
			}
			tick.Reset(d.opts.ScanPeriod)
			select {
			case <-d.done:
				return
			case <-tick.C:
			}
		}
		if err := d.driveRows(); err != nil {
			d.fail(err)
			return
		}
	}
}

// scan drives one row low at a time, others released, and reads the
// columns.
func (d *Dev) scan() (keys, error) {
	for _, r := range d.rows {
		if err := r.In(gpio.PullUp, gpio.NoEdge); err != nil {
			return 0, fmt.Errorf("matrix: release row %s: %w", r, err)
		}
	}
	var k keys
	for ri, r := range d.rows {
		if err := r.Out(gpio.Low); err != nil {
			return 0, fmt.Errorf("matrix: drive row %s: %w", r, err)
		}
		for ci, c := range d.cols {
			if c.Read() == gpio.Low {
				k |= bit(ri, ci)
			}
		}
		if err := r.In(gpio.PullUp, gpio.NoEdge); err != nil {
			return 0, fmt.Errorf("matrix: release row %s: %w", r, err)
		}
	}
	return k, nil
}

// driveRows drives every row low: the resting state, where any press pulls
// its column low and wakes the driver.
func (d *Dev) driveRows() error {
	for _, r := range d.rows {
		if err := r.Out(gpio.Low); err != nil {
			return fmt.Errorf("matrix: drive row %s: %w", r, err)
		}
	}
	return nil
}

func (d *Dev) emit(r, c int) {
	ev := hal.KeyEvent{Key: d.opts.Layout[r*len(d.cols)+c], Time: time.Now()}
	select {
	case d.keys <- ev:
	default:
		d.mu.Lock()
		d.dropped++
		d.mu.Unlock()
	}
}

// fail stops the keypad after a pin error; blocked reads return it.
func (d *Dev) fail(err error) {
	d.mu.Lock()
	d.scanErr = err
	d.mu.Unlock()
	d.stop()
}
