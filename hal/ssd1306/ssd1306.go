// Package ssd1306 shows lines of text on an SSD1306 128x64 (or 128x32)
// OLED on I2C: 21 columns by 8 (or 4) rows of 6x8 cells in a built-in 5x7
// font. periph.io/x/devices' ssd1306 does the panel protocol and sends
// only the rectangle of pixels that changed.
package ssd1306

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/ssd1306"
	"periph.io/x/devices/v3/ssd1306/image1bit"

	"timeclock/hal"
)

// Cell size in pixels.
const (
	cellW = 6
	cellH = 8
)

// Opts configures the panel.
type Opts struct {
	// W and H are the panel's pixels: 128x64 or 128x32.
	W, H int
	// Rotated turns the picture 180 degrees, for panels mounted upside down.
	Rotated bool
}

// DefaultOpts is the common 128x64 panel: 21x8 characters.
var DefaultOpts = Opts{W: 128, H: 64}

// Dev is an OLED showing text.
type Dev struct {
	bus        i2c.Bus
	addr       uint16
	cols, rows int

	mu     sync.Mutex
	panel  *ssd1306.Dev           // guarded by mu
	img    *image1bit.VerticalLSB // guarded by mu; the picture wanted
	on     bool                   // guarded by mu
	halted bool                   // guarded by mu
}

var (
	_ hal.Display   = (*Dev)(nil)
	_ hal.Backlight = (*Dev)(nil)
)

// New initializes the panel at addr on bus (0x3C on most modules, 0x3D on
// some) and blanks it.
func New(bus i2c.Bus, addr uint16, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	d := &Dev{bus: bus, addr: addr, cols: o.W / cellW, rows: o.H / cellH, on: true}
	// periph's driver always talks to 0x3C: move it to addr.
	p, err := ssd1306.NewI2C(&readdress{Bus: bus, addr: addr}, &ssd1306.Opts{W: o.W, H: o.H, Rotated: o.Rotated})
	if err != nil {
		return nil, fmt.Errorf("ssd1306 at %s 0x%02x: %w", bus, addr, err)
	}
	d.panel = p
	d.img = image1bit.NewVerticalLSB(p.Bounds())
	// The first draw sends every pixel: the panel's RAM holds noise at
	// power-up.
	if err := d.drawLocked(); err != nil {
		return nil, fmt.Errorf("ssd1306 at %s 0x%02x: %w", bus, addr, err)
	}
	return d, nil
}

func (d *Dev) String() string {
	return fmt.Sprintf("ssd1306(%dx%d)@%s:0x%02x", d.cols, d.rows, d.bus, d.addr)
}

// Size is the text geometry.
func (d *Dev) Size() (int, int) { return d.cols, d.rows }

// Show replaces the screen.
func (d *Dev) Show(lines []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return hal.ErrHalted
	}
	clear(d.img.Pix)
	stride := d.img.Rect.Dx()
	for r := 0; r < d.rows && r < len(lines); r++ {
		c := 0
		for _, ch := range lines[r] {
			if c == d.cols {
				break
			}
			g := Glyph(ch)
			copy(d.img.Pix[r*stride+c*cellW:], g[:])
			c++
		}
	}
	if !d.on {
		return nil // drawn when the panel is switched on again
	}
	if err := d.drawLocked(); err != nil {
		return fmt.Errorf("ssd1306: %w", err)
	}
	return nil
}

// drawLocked sends the picture: periph's Write takes the full frame in the
// panel's own layout (image1bit.VerticalLSB's Pix) and sends only the
// rectangle that changed, as its Draw does for such a frame, without
// linking image/draw's general compositing (~52 KiB of the ARM binary).
func (d *Dev) drawLocked() error {
	_, err := d.panel.Write(d.img.Pix)
	return err
}

// Clear blanks the screen.
func (d *Dev) Clear() error { return d.Show(nil) }

// SetBacklight switches the panel on and off: an OLED has no backlight,
// and dark pixels do not age.
func (d *Dev) SetBacklight(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return hal.ErrHalted
	}
	if on == d.on {
		return nil
	}
	if !on {
		if err := d.panel.Halt(); err != nil {
			return fmt.Errorf("ssd1306: display off: %w", err)
		}
		d.on = false
		return nil
	}
	// Any command wakes periph's halted panel; Invert(false) is harmless.
	if err := d.panel.Invert(false); err != nil {
		return fmt.Errorf("ssd1306: display on: %w", err)
	}
	d.on = true
	if err := d.drawLocked(); err != nil {
		return fmt.Errorf("ssd1306: %w", err)
	}
	return nil
}

// Halt switches the panel off.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return nil
	}
	d.halted = true
	if err := d.panel.Halt(); err != nil {
		return fmt.Errorf("ssd1306: halt: %w", err)
	}
	return nil
}

// readdress moves transactions for 0x3C to addr.
type readdress struct {
	i2c.Bus
	addr uint16
}

func (r *readdress) Tx(addr uint16, w, rd []byte) error {
	if addr == 0x3C {
		addr = r.addr
	}
	return r.Bus.Tx(addr, w, rd)
}

func (r *readdress) SetSpeed(f physic.Frequency) error { return r.Bus.SetSpeed(f) }
