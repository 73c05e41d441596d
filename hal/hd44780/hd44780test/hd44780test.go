// Package hd44780test emulates an HD44780 character LCD behind a PCF8574
// I2C backpack, as an i2c.Bus, for testing hal/hd44780: it follows the
// expander's pins, latches nibbles on falling edges of E, tracks the 8-bit
// to 4-bit switch, runs the instructions the driver uses, and shows what a
// person would read. Protocol mistakes are recorded and returned by Err.
package hd44780test

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

const (
	bitRS = 1 << 0
	bitRW = 1 << 1
	bitE  = 1 << 2
	bitBL = 1 << 3
)

// rom is the character ROM (code A00) above ASCII and where it differs.
var rom = map[byte]rune{
	0x5C: '¥', 0x7E: '→', 0x7F: '←', 0xA5: '·', 0xDF: '°',
	0xE1: 'ä', 0xE2: 'ß', 0xE4: 'µ', 0xEE: 'ñ', 0xEF: 'ö', 0xF5: 'ü',
}

// LCD is the emulated panel and backpack.
type LCD struct {
	addr       uint16
	cols, rows int

	mu        sync.Mutex
	ddram     [0x80]byte
	ac        int
	fourBit   bool
	high      int // pending high nibble in 4-bit mode, -1 none
	twoLines  bool
	displayOn bool
	prev      byte
	txs       int
	bytes     int
	err       error
}

// New returns a cols x rows panel answering at addr.
func New(cols, rows int, addr uint16) *LCD {
	l := &LCD{addr: addr, cols: cols, rows: rows, high: -1}
	for i := range l.ddram {
		l.ddram[i] = ' '
	}
	return l
}

func (l *LCD) String() string { return fmt.Sprintf("hd44780test(%dx%d)", l.cols, l.rows) }

// SetSpeed implements i2c.Bus.
func (l *LCD) SetSpeed(physic.Frequency) error { return nil }

// Tx implements i2c.Bus: a write of expander bytes.
func (l *LCD) Tx(addr uint16, w, r []byte) error {
	if addr != l.addr {
		return fmt.Errorf("hd44780test: no device at 0x%02x (NACK)", addr)
	}
	if len(r) != 0 {
		return fmt.Errorf("hd44780test: read of %d bytes: the driver never reads", len(r))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.txs++
	l.bytes += 1 + len(w) // the address byte goes on the wire too
	for _, v := range w {
		l.pins(v)
	}
	return nil
}

func (l *LCD) fail(format string, args ...any) {
	if l.err == nil {
		l.err = fmt.Errorf("hd44780test: "+format, args...)
	}
}

// pins follows one byte put on the expander.
func (l *LCD) pins(v byte) {
	if v&bitRW != 0 {
		l.fail("RW high: the LCD would drive the data lines")
	}
	rising := l.prev&bitE == 0 && v&bitE != 0
	falling := l.prev&bitE != 0 && v&bitE == 0
	if rising && l.prev&bitRS != v&bitRS {
		l.fail("RS changed as E rose (needs 40 ns setup)")
	}
	if v&bitE != 0 && l.prev&bitE != 0 && (l.prev^v)&0xF1 != 0 {
		l.fail("data or RS changed while E was high")
	}
	if falling {
		l.nibble(l.prev>>4, l.prev&bitRS != 0)
	}
	l.prev = v
}

func (l *LCD) nibble(n byte, rs bool) {
	if !l.fourBit {
		// 8-bit interface: D0-D3 are not wired and read as 0.
		l.exec(n<<4, rs)
		return
	}
	if l.high < 0 {
		l.high = int(n)
		return
	}
	v := byte(l.high)<<4 | n
	l.high = -1
	l.exec(v, rs)
}

func (l *LCD) exec(v byte, rs bool) {
	if rs {
		l.ddram[l.ac] = v
		l.ac = next(l.ac)
		return
	}
	switch {
	case v&0x80 != 0:
		a := int(v & 0x7F)
		if a > 0x67 || (a > 0x27 && a < 0x40) {
			l.fail("DDRAM address 0x%02x does not exist", a)
		}
		l.ac = a
	case v&0x40 != 0:
		l.fail("CGRAM address set: not used by the driver")
	case v&0x20 != 0:
		l.fourBit = v&0x10 == 0
		l.twoLines = v&0x08 != 0
		l.high = -1
	case v&0x10 != 0:
		l.fail("cursor/display shift 0x%02x: not used by the driver", v)
	case v&0x08 != 0:
		l.displayOn = v&0x04 != 0
	case v&0x04 != 0:
		if v != 0x06 {
			l.fail("entry mode 0x%02x: text would not run left to right", v)
		}
	case v&0x02 != 0:
		l.ac = 0
	case v&0x01 != 0:
		for i := range l.ddram {
			l.ddram[i] = ' '
		}
		l.ac = 0
	}
}

func next(a int) int {
	switch a {
	case 0x27:
		return 0x40
	case 0x67:
		return 0x00
	}
	return a + 1
}

// Screen returns what a person reads, one string per row; a display that
// is off or not in 2-line mode (when it has 2 or more rows) shows blank.
func (l *LCD) Screen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	rowAddr := []int{0x00, 0x40, l.cols, 0x40 + l.cols}
	out := make([]string, l.rows)
	for r := range out {
		rs := make([]rune, l.cols)
		for c := range rs {
			rs[c] = ' '
			if !l.displayOn || (l.rows > 1 && !l.twoLines) {
				continue
			}
			b := l.ddram[rowAddr[r]+c]
			switch x, ok := rom[b]; {
			case ok:
				rs[c] = x
			case b >= 0x20 && b <= 0x7D:
				rs[c] = rune(b)
			default:
				rs[c] = '\uFFFD'
			}
		}
		out[r] = string(rs)
	}
	return out
}

// Backlight reports whether the backlight is on.
func (l *LCD) Backlight() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.prev&bitBL != 0
}

// DisplayOn reports whether the display is switched on.
func (l *LCD) DisplayOn() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.displayOn
}

// Bytes returns the transactions and the bytes on the wire (address byte
// included) so far.
func (l *LCD) Bytes() (txs, bytes int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.txs, l.bytes
}

// Err returns the first protocol mistake seen, if any.
func (l *LCD) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

var _ i2c.Bus = (*LCD)(nil)
