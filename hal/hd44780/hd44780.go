// Package hd44780 drives an HD44780 character LCD (16x2, 20x4, ...) on a
// PCF8574 I2C backpack, in 4-bit mode. It keeps a copy of what the display
// shows and sends only the cells that changed, so the minute ticking over
// on the idle screen costs a few bytes on the bus, not a whole screen.
//
// The 4-bit protocol over the expander is written here rather than with
// periph.io/x/devices' hd44780 on pcf857x pins: that driver toggles one
// expander pin per I2C transaction (dozens per character) and always
// writes from the cursor, while here a character is 4 bytes and a whole
// update is one transaction.
package hd44780

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"

	"timeclock/hal"
)

// Expander bits on the common backpacks: P0 RS, P1 RW, P2 E, P3 backlight,
// P4-P7 the LCD's D4-D7.
const (
	bitRS = 1 << 0
	bitRW = 1 << 1
	bitE  = 1 << 2
	bitBL = 1 << 3
)

// Instructions.
const (
	cmdClear      = 0x01
	cmdEntryInc   = 0x06 // cursor moves right, no display shift
	cmdDisplayOff = 0x08
	cmdDisplayOn  = 0x0C // display on, cursor and blink off
	cmdFunction4  = 0x20 // 4-bit interface, 1 line
	cmdTwoLines   = 0x08 // with cmdFunction4: 2 lines (also 4-row panels)
	cmdSetDDRAM   = 0x80
)

// Opts configures the display.
type Opts struct {
	Cols, Rows int
	// Backlight is whether the backlight is on after New.
	Backlight bool
}

// DefaultOpts is a 20x4 panel with its backlight on.
var DefaultOpts = Opts{Cols: 20, Rows: 4, Backlight: true}

// Dev is a character LCD.
type Dev struct {
	dev        i2c.Dev
	cols, rows int
	rowAddr    []int
	order      []int               // rows by DDRAM address
	sleep      func(time.Duration) // hardware delays; tests replace it

	mu     sync.Mutex
	shadow [][]byte // guarded by mu; the codes shown
	ac     int      // guarded by mu; DDRAM address the LCD will write next, -1 unknown
	last   byte     // guarded by mu; last byte put on the expander
	light  bool     // guarded by mu
	stale  bool     // guarded by mu; a write failed: the LCD's state is unknown
	halted bool     // guarded by mu
}

var (
	_ hal.Display   = (*Dev)(nil)
	_ hal.Backlight = (*Dev)(nil)
)

// New initializes the display at addr on bus (0x27 on most backpacks,
// 0x3F on some) and clears it.
func New(bus i2c.Bus, addr uint16, opts *Opts) (*Dev, error) {
	return newDev(bus, addr, opts, time.Sleep)
}

// newDev is New with the hardware delays' sleep replaceable by tests.
func newDev(bus i2c.Bus, addr uint16, opts *Opts, sleep func(time.Duration)) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Cols < 1 || o.Cols > 40 || o.Rows < 1 || o.Rows > 4 || o.Cols*o.Rows > 80 {
		return nil, fmt.Errorf("hd44780: %dx%d is not an HD44780 geometry", o.Cols, o.Rows)
	}
	d := &Dev{
		dev:  i2c.Dev{Bus: bus, Addr: addr},
		cols: o.Cols, rows: o.Rows,
		// Rows 2 and 3 continue rows 0 and 1 in DDRAM.
		rowAddr: []int{0x00, 0x40, o.Cols, 0x40 + o.Cols}[:o.Rows],
		sleep:   sleep,
		light:   o.Backlight,
	}
	d.order = make([]int, 0, o.Rows)
	for _, r := range []int{0, 2, 1, 3} {
		if r < o.Rows {
			d.order = append(d.order, r)
		}
	}
	d.mu.Lock()
	err := d.initLocked()
	d.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("hd44780 at %s 0x%02x: %w", bus, addr, err)
	}
	return d, nil
}

// initLocked puts the LCD into 4-bit mode from any state it may be in (even
// half way through a byte after a glitch or a crash), then clears it.
func (d *Dev) initLocked() error {
	d.stale = true
	d.last = d.blBit()
	if err := d.dev.Tx([]byte{d.last}, nil); err != nil {
		return err
	}
	// Three times "8-bit interface", with the waits of the datasheet's
	// figure 24, then "4-bit interface".
	if err := d.dev.Tx(d.nibble(nil, 0x3, false), nil); err != nil {
		return err
	}
	d.sleep(5 * time.Millisecond)
	if err := d.dev.Tx(d.nibble(nil, 0x3, false), nil); err != nil {
		return err
	}
	d.sleep(time.Millisecond)
	b := d.nibble(nil, 0x3, false)
	b = d.nibble(b, 0x2, false)
	fn := byte(cmdFunction4)
	if d.rows > 1 {
		fn |= cmdTwoLines
	}
	b = d.byte(b, fn, false)
	b = d.byte(b, cmdDisplayOff, false)
	b = d.byte(b, cmdClear, false)
	if err := d.dev.Tx(b, nil); err != nil {
		return err
	}
	d.sleep(2 * time.Millisecond) // clear takes 1.52 ms
	b = d.byte(nil, cmdEntryInc, false)
	b = d.byte(b, cmdDisplayOn, false)
	if err := d.dev.Tx(b, nil); err != nil {
		return err
	}
	d.shadow = make([][]byte, d.rows)
	for r := range d.shadow {
		d.shadow[r] = []byte(strings.Repeat(" ", d.cols))
	}
	d.ac = 0
	d.stale = false
	return nil
}

func (d *Dev) String() string {
	return fmt.Sprintf("hd44780(%dx%d)@%s:0x%02x", d.cols, d.rows, d.dev.Bus, d.dev.Addr)
}

// Size is the text geometry.
func (d *Dev) Size() (int, int) { return d.cols, d.rows }

func (d *Dev) blBit() byte {
	if d.light {
		return bitBL
	}
	return 0
}

// nibble appends the expander bytes that clock 4 bits into the LCD: data
// with E high, then E low (the LCD latches on the falling edge). When RS
// changes it first puts RS out with E low, since RS must settle before E
// rises.
func (d *Dev) nibble(b []byte, n byte, data bool) []byte {
	v := n<<4 | d.blBit()
	if data {
		v |= bitRS
	}
	if v&bitRS != d.last&bitRS {
		b = append(b, v)
	}
	d.last = v
	return append(b, v|bitE, v)
}

// byte appends an instruction (data false) or a character code.
func (d *Dev) byte(b []byte, v byte, data bool) []byte {
	b = d.nibble(b, v>>4, data)
	return d.nibble(b, v&0x0F, data)
}

// nextAddr is the DDRAM address after writing at a, in 2-line mode.
func nextAddr(a int) int {
	switch a {
	case 0x27:
		return 0x40
	case 0x67:
		return 0x00
	}
	return a + 1
}

// render turns lines into character codes, padded and cut to the panel.
func (d *Dev) render(lines []string) [][]byte {
	out := make([][]byte, d.rows)
	for r := range out {
		row := make([]byte, 0, d.cols)
		if r < len(lines) {
			for _, c := range lines[r] {
				if len(row) == d.cols {
					break
				}
				row = append(row, encode(c))
			}
		}
		for len(row) < d.cols {
			row = append(row, ' ')
		}
		out[r] = row
	}
	return out
}

// Show replaces the screen, writing only the cells that differ.
func (d *Dev) Show(lines []string) error {
	want := d.render(lines)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return hal.ErrHalted
	}
	if d.stale {
		if err := d.initLocked(); err != nil {
			return fmt.Errorf("hd44780: reinit: %w", err)
		}
	}
	var b []byte
	// Rows in DDRAM order: on 4-row panels row 2 continues row 0, so a
	// full update needs two cursor moves, not four.
	for _, r := range d.order {
		for _, run := range changed(d.shadow[r], want[r]) {
			a := d.rowAddr[r] + run[0]
			if a != d.ac {
				b = d.byte(b, cmdSetDDRAM|byte(a), false)
			}
			for c := run[0]; c < run[1]; c++ {
				b = d.byte(b, want[r][c], true)
				a = nextAddr(a)
			}
			d.ac = a
		}
	}
	if len(b) == 0 {
		return nil
	}
	if err := d.dev.Tx(b, nil); err != nil {
		d.stale = true
		return fmt.Errorf("hd44780: %w", err)
	}
	for r := range want {
		copy(d.shadow[r], want[r])
	}
	return nil
}

// changed returns the runs [from, to) of cells that differ. Runs one cell
// apart are joined: rewriting a cell (4 bytes) is no dearer than moving
// the cursor (4-5 bytes).
func changed(have, want []byte) [][2]int {
	var runs [][2]int
	for c := 0; c < len(want); c++ {
		if have[c] == want[c] {
			continue
		}
		if n := len(runs); n > 0 && c-runs[n-1][1] <= 1 {
			runs[n-1][1] = c + 1
			continue
		}
		runs = append(runs, [2]int{c, c + 1})
	}
	return runs
}

// Clear blanks the screen.
func (d *Dev) Clear() error { return d.Show(nil) }

// SetBacklight switches the backlight.
func (d *Dev) SetBacklight(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return hal.ErrHalted
	}
	d.light = on
	v := d.last&^(bitBL|bitE) | d.blBit()
	if err := d.dev.Tx([]byte{v}, nil); err != nil {
		d.stale = true
		return fmt.Errorf("hd44780: backlight: %w", err)
	}
	d.last = v
	return nil
}

// Halt clears the display and switches it and its backlight off, so a
// stopped clock does not look like a working one.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return nil
	}
	d.halted = true
	d.light = false
	if err := d.dev.Tx(d.byte(nil, cmdClear, false), nil); err != nil {
		return fmt.Errorf("hd44780: halt: %w", err)
	}
	d.sleep(2 * time.Millisecond) // the LCD ignores instructions while clearing
	if err := d.dev.Tx(d.byte(nil, cmdDisplayOff, false), nil); err != nil {
		return fmt.Errorf("hd44780: halt: %w", err)
	}
	return nil
}
