// Package ssd1306test emulates an SSD1306 OLED controller on I2C, as an
// i2c.Bus, for testing hal/ssd1306: it parses the command stream (with each
// command's arguments), keeps the display RAM as page/column addressing
// fills it, and reads the text back by matching 6x8 cells against the
// driver's font. Protocol mistakes are recorded and returned by Err.
package ssd1306test

import (
	"fmt"
	"strings"
	"sync"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"

	"timeclock/hal/ssd1306"
)

// args is how many argument bytes each multi-byte command takes.
var args = map[byte]int{
	0x20: 1, 0x21: 2, 0x22: 2, 0x26: 6, 0x27: 6, 0x29: 5, 0x2A: 5, 0x81: 1, 0x8D: 1,
	0xA3: 2, 0xA8: 1, 0xD3: 1, 0xD5: 1, 0xD9: 1, 0xDA: 1, 0xDB: 1,
}

// OLED is the emulated panel.
type OLED struct {
	addr uint16
	w, h int

	mu               sync.Mutex
	ram              [8][128]byte
	page, col        int
	colFrom, colTo   int
	pageFrom, pageTo int
	on               bool
	pump             bool
	cmd              []byte // a command waiting for its arguments
	txs, bytes       int
	err              error
	glyphs           map[[6]byte]rune
}

// New returns a w x h panel answering at addr.
func New(w, h int, addr uint16) *OLED {
	o := &OLED{addr: addr, w: w, h: h, colTo: w - 1, pageTo: h/8 - 1, glyphs: map[[6]byte]rune{}}
	for r := rune(0x20); r <= 0x7E; r++ {
		g := ssd1306.Glyph(r)
		var cell [6]byte
		copy(cell[:], g[:])
		if prev, dup := o.glyphs[cell]; dup {
			o.fail("font draws %q and %q alike", prev, r)
		}
		o.glyphs[cell] = r
	}
	// Power-up RAM is noise.
	for p := range o.ram {
		for c := range o.ram[p] {
			o.ram[p][c] = byte(p*31 + c*7)
		}
	}
	return o
}

func (o *OLED) String() string { return fmt.Sprintf("ssd1306test(%dx%d)", o.w, o.h) }

// SetSpeed implements i2c.Bus.
func (o *OLED) SetSpeed(physic.Frequency) error { return nil }

func (o *OLED) fail(format string, a ...any) {
	if o.err == nil {
		o.err = fmt.Errorf("ssd1306test: "+format, a...)
	}
}

// Tx implements i2c.Bus: a control byte (0x00 commands, 0x40 data) and
// the stream it introduces.
func (o *OLED) Tx(addr uint16, w, r []byte) error {
	if addr != o.addr {
		return fmt.Errorf("ssd1306test: no device at 0x%02x (NACK)", addr)
	}
	if len(r) != 0 || len(w) == 0 {
		return fmt.Errorf("ssd1306test: %d bytes written, %d read: want a control byte and a stream", len(w), len(r))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.txs++
	o.bytes += 1 + len(w)
	switch w[0] {
	case 0x00:
		for _, b := range w[1:] {
			o.command(b)
		}
	case 0x40:
		if len(o.cmd) > 0 {
			o.fail("data while command 0x%02x waits for arguments", o.cmd[0])
		}
		for _, b := range w[1:] {
			o.data(b)
		}
	default:
		o.fail("control byte 0x%02x", w[0])
	}
	return nil
}

func (o *OLED) command(b byte) {
	o.cmd = append(o.cmd, b)
	c := o.cmd[0]
	if len(o.cmd)-1 < args[c] {
		return
	}
	a := o.cmd[1:]
	o.cmd = nil
	switch {
	case c == 0xAE:
		o.on = false
	case c == 0xAF:
		if !o.pump {
			o.fail("display on without the charge pump")
		}
		o.on = true
	case c == 0x8D:
		o.pump = a[0]&0x04 != 0
	case c == 0x20:
		if a[0] != 0x00 {
			o.fail("addressing mode %d: the emulator knows horizontal only", a[0])
		}
	case c == 0x21:
		o.colFrom, o.colTo, o.col = int(a[0]), int(a[1]), int(a[0])
	case c == 0x22:
		o.pageFrom, o.pageTo, o.page = int(a[0])&7, int(a[1])&7, int(a[0])&7
	case c >= 0xB0 && c <= 0xB7:
		o.page = int(c & 7)
	case c <= 0x0F:
		o.col = o.col&0xF0 | int(c)
	case c >= 0x10 && c <= 0x1F:
		o.col = o.col&0x0F | int(c&0x0F)<<4
	case c == 0x26, c == 0x27, c == 0x29, c == 0x2A, c == 0x2F:
		o.fail("scrolling 0x%02x: the driver never scrolls", c)
	}
}

func (o *OLED) data(b byte) {
	if o.col < 128 && o.page < 8 {
		o.ram[o.page][o.col] = b
	}
	o.col++
	if o.col > o.colTo {
		o.col = o.colFrom
		o.page++
		if o.page > o.pageTo {
			o.page = o.pageFrom
		}
	}
}

// Screen reads the text: one string per 8-pixel page, 6-pixel cells
// matched against the font; an unknown cell reads as U+FFFD. A panel that
// is off reads blank.
func (o *OLED) Screen() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]string, o.h/8)
	for p := range out {
		var sb strings.Builder
		for c := 0; c+6 <= o.w; c += 6 {
			var cell [6]byte
			if o.on {
				copy(cell[:], o.ram[p][c:c+6])
			}
			r, ok := o.glyphs[cell]
			if !ok {
				r = '\uFFFD'
			}
			sb.WriteRune(r)
		}
		out[p] = sb.String()
	}
	return out
}

// Pixels draws the display RAM as text, '#' lit and '.' dark, one line per
// pixel row: for golden files a person can look at.
func (o *OLED) Pixels() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var sb strings.Builder
	for y := 0; y < o.h; y++ {
		for x := 0; x < o.w; x++ {
			if o.ram[y/8][x]>>(y%8)&1 == 1 {
				sb.WriteByte('#')
			} else {
				sb.WriteByte('.')
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// On reports whether the display is switched on.
func (o *OLED) On() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.on
}

// Bytes returns the transactions and bytes on the wire so far.
func (o *OLED) Bytes() (txs, bytes int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.txs, o.bytes
}

// Err returns the first protocol mistake seen, if any.
func (o *OLED) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

var _ i2c.Bus = (*OLED)(nil)
