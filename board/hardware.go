package board

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/spi/spireg"

	"timeclock/hal"
	"timeclock/hal/em4100"
	"timeclock/hal/evdev"
	"timeclock/hal/fingerprint"
	"timeclock/hal/hd44780"
	"timeclock/hal/ledbuzzer"
	"timeclock/hal/matrix"
	"timeclock/hal/mfrc522"
	"timeclock/hal/ssd1306"
)

// optionalProbe bounds each handshake reply while a board looks for a
// fingerprint module it declares optional (the dev kit's): a module answers
// in milliseconds, so a kit without one starts without waiting the 2 s a
// reply may take once it works (a search of a full library).
const optionalProbe = 300 * time.Millisecond

// openHardware opens a real model's drivers: the host drivers
// (hostdrivers.go), then the pins (all of them, before anything is
// opened), then each device.
// Whatever was opened is halted again when a later step fails.
func openHardware(m Model, o Opts) (_ *Set, err error) {
	if _, err := initHost(); err != nil {
		return nil, fmt.Errorf("board %s: periph host drivers: %w", m.Name, err)
	}
	p, err := resolvePins(m)
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Set{Model: m}
	defer func() {
		if err != nil {
			if herr := s.Halt(); herr != nil {
				err = errors.Join(err, fmt.Errorf("board %s: halting what was opened: %w", m.Name, herr))
			}
		}
	}()
	fail := func(field string, err error) error { return fmt.Errorf("board %s: %s: %w", m.Name, field, err) }

	// Each device goes into s only once it opened: a failed New returns a
	// nil *Dev, which in an interface would not be nil.
	disp, err := s.openDisplay(m.Display)
	if err != nil {
		return nil, fail("display", err)
	}
	s.Display = disp
	kp, err := openKeypad(m.Keypad, p, log)
	if err != nil {
		return nil, fail("keypad", err)
	}
	s.Keypad = kp
	for i, b := range m.Badges {
		r, err := s.openBadge(b, p, log)
		if err != nil {
			return nil, fail(fmt.Sprintf("badges[%d] (%s)", i, b.Driver), err)
		}
		s.Badges = append(s.Badges, r)
	}
	if fp := m.Fingerprint; fp != nil {
		baud := fp.Baud
		if baud == 0 {
			baud = fingerprint.DefaultBaud
		}
		fo := fingerprint.DefaultOpts
		fo.Logger = log
		if fp.Optional {
			fo.ProbeTimeout = optionalProbe
		}
		d, err := fingerprint.New(fp.Port, fingerprint.SerialOpener(fp.Port, baud), &fo)
		switch {
		case err != nil && fp.Optional:
			log.Warn("optional fingerprint module not answering: running without fingerprints", "port", fp.Port, "err", err)
		case err != nil:
			return nil, fail("fingerprint", err)
		default:
			s.Finger = d
		}
	}
	in := m.Indicator
	var buzzer gpio.PinOut
	if b := p.get(in.Buzzer); b != nil {
		buzzer = b
	}
	ind, err := ledbuzzer.New(p.get(in.Green), p.get(in.Red), buzzer, nil)
	if err != nil {
		return nil, fail("indicator", err)
	}
	s.Indicator = ind
	return s, nil
}

func (s *Set) openDisplay(d DisplaySpec) (hal.Display, error) {
	bus, err := i2creg.Open(d.Bus)
	if err != nil {
		return nil, fmt.Errorf("I2C bus %q: %w", d.Bus, err)
	}
	s.closers = append(s.closers, bus)
	if d.Driver == "hd44780" {
		return hd44780.New(bus, d.Addr, &hd44780.Opts{Cols: d.Cols, Rows: d.Rows, Backlight: true})
	}
	return ssd1306.New(bus, d.Addr, &ssd1306.Opts{W: 128, H: 8 * d.Rows}) // ssd1306, as validated
}

func openKeypad(k KeypadSpec, p *pins, log *slog.Logger) (hal.Keypad, error) {
	if k.Driver == "evdev" {
		return evdev.NewKeypad(k.Device, evdev.PathOpener(k.Device), &evdev.KeypadOpts{Map: evdev.DefaultKeyMap(), Logger: log})
	}
	o := matrix.DefaultOpts
	for _, n := range k.Layout {
		key, _ := hal.ParseKey(n) // validated
		o.Layout = append(o.Layout, key)
	}
	if k.DebounceMS > 0 {
		o.Debounce = max(1, int((time.Duration(k.DebounceMS)*time.Millisecond+o.ScanPeriod-1)/o.ScanPeriod))
	}
	var rows, cols []gpio.PinIO
	for _, n := range k.Rows {
		rows = append(rows, p.get(n))
	}
	for _, n := range k.Cols {
		cols = append(cols, p.get(n))
	}
	return matrix.New(rows, cols, &o)
}

func (s *Set) openBadge(b BadgeSpec, p *pins, log *slog.Logger) (hal.BadgeReader, error) {
	switch b.Driver {
	case "wiegand":
		return openWiegand(p.get(b.D0), p.get(b.D1), log)
	case "em4100":
		baud := b.Baud
		if baud == 0 {
			baud = 9600
		}
		o := em4100.DefaultOpts
		o.Logger = log
		return em4100.New(b.Port, em4100.SerialOpener(b.Port, baud), &o)
	case "mfrc522":
		port, err := spireg.Open(b.Bus)
		if err != nil {
			return nil, fmt.Errorf("SPI port %q: %w", b.Bus, err)
		}
		s.closers = append(s.closers, port)
		o := mfrc522.DefaultOpts
		o.Logger = log
		var irq gpio.PinIn
		if pin := p.get(b.IRQ); pin != nil {
			irq = pin
		}
		return mfrc522.New(port, p.get(b.Reset), irq, &o)
	default: // evdev, as validated
		return evdev.NewWedge(b.Device, evdev.PathOpener(b.Device), &evdev.WedgeOpts{Gap: evdev.DefaultWedgeOpts.Gap, MaxDigits: 20, Logger: log})
	}
}
