package board

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"timeclock/hal"
)

// Validate checks a model's fields: drivers, geometry, that each driver has
// the pins and buses it needs and no others, and that no pin is used
// twice. The error names the model, the field and the pin or bus. Whether
// the pins and buses exist is checked when the board is opened.
func (m Model) Validate() error {
	if m.Name == "" {
		return errors.New("name: missing")
	}
	v := validator{model: m.Name}
	v.display(m.Display)
	v.keypad(m.Keypad)
	for i, b := range m.Badges {
		v.badge(fmt.Sprintf("badges[%d]", i), b)
	}
	v.fingerprint(m)
	v.indicator(m.Indicator)
	v.simOnlyWithSim(m)
	v.inputs(m.Inputs)
	v.network(m.Network)
	v.pinsOnce()
	return v.err
}

// validator collects the first error and the pins seen.
type validator struct {
	model string
	err   error
	pins  []pinUse
}

// pinUse is a pin named in a field.
type pinUse struct{ field, pin string }

func (v *validator) fail(field string, format string, args ...any) {
	if v.err == nil {
		v.err = fmt.Errorf("%s: %s: %s", v.model, field, fmt.Sprintf(format, args...))
	}
}

// pin checks a pin name and records its use.
func (v *validator) pin(field, name string) {
	switch {
	case name == "":
		v.fail(field, "pin missing")
	case strings.TrimSpace(name) != name || strings.ContainsAny(name, " \t\n"):
		v.fail(field, "pin %q has spaces", name)
	default:
		v.pins = append(v.pins, pinUse{field, name})
	}
}

// unused fails when a field that driver does not take is set.
func (v *validator) unused(field, driver, value string) {
	if value != "" {
		v.fail(field, "%q is not used by driver %s", value, driver)
	}
}

func (v *validator) display(d DisplaySpec) {
	switch d.Driver {
	case "sim":
		v.unused("display.bus", "sim", d.Bus)
		if d.Addr != 0 {
			v.fail("display.addr", "%d is not used by driver sim", d.Addr)
		}
		if d.Cols < 8 || d.Cols > 40 || d.Rows < 1 || d.Rows > 8 {
			v.fail("display", "geometry %dx%d out of range (8-40 x 1-8)", d.Cols, d.Rows)
		}
		return
	case "hd44780", "ssd1306":
		if d.Bus == "" {
			v.fail("display.bus", "I2C bus missing (e.g. \"1\" for /dev/i2c-1)")
		}
	default:
		v.fail("display.driver", "unknown driver %q (want sim, hd44780, ssd1306)", d.Driver)
		return
	}
	switch d.Driver {
	case "hd44780":
		if !slices.Contains([]int{8, 16, 20, 24, 40}, d.Cols) || !slices.Contains([]int{1, 2, 4}, d.Rows) || d.Cols*d.Rows > 80 {
			v.fail("display", "geometry %dx%d is not an HD44780 panel (8, 16, 20, 24 or 40 columns; 1, 2 or 4 rows; at most 80 cells)", d.Cols, d.Rows)
		}
		if d.Addr < 0x03 || d.Addr > 0x77 {
			v.fail("display.addr", "I2C address %d (0x%02x) out of range 0x03-0x77 (PCF8574 backpacks: 39 = 0x27 or 63 = 0x3f)", d.Addr, d.Addr)
		}
	case "ssd1306":
		if d.Cols != 21 || (d.Rows != 8 && d.Rows != 4) {
			v.fail("display", "geometry %dx%d: an SSD1306 shows 21x8 (128x64) or 21x4 (128x32) characters", d.Cols, d.Rows)
		}
		if d.Addr != 0x3C && d.Addr != 0x3D {
			v.fail("display.addr", "I2C address %d (0x%02x): an SSD1306 answers at 60 (0x3c) or 61 (0x3d)", d.Addr, d.Addr)
		}
	}
}

func (v *validator) keypad(k KeypadSpec) {
	matrixOnly := func(driver string) {
		if len(k.Rows)+len(k.Cols)+len(k.Layout) > 0 || k.DebounceMS != 0 {
			v.fail("keypad", "rows, cols, layout and debounce_ms are for driver matrix, not %s", driver)
		}
	}
	switch k.Driver {
	case "sim":
		matrixOnly("sim")
		v.unused("keypad.device", "sim", k.Device)
	case "evdev":
		matrixOnly("evdev")
		if k.Device == "" {
			v.fail("keypad.device", "input device missing (e.g. /dev/input/by-path/platform-matrix-keypad-event)")
		}
	case "matrix":
		v.unused("keypad.device", "matrix", k.Device)
		if len(k.Rows) == 0 || len(k.Cols) == 0 {
			v.fail("keypad", "matrix needs rows and cols pins")
		}
		if len(k.Rows) > 8 || len(k.Cols) > 8 {
			v.fail("keypad", "%d rows x %d cols: at most 8 of each", len(k.Rows), len(k.Cols))
		}
		for i, p := range k.Rows {
			v.pin(fmt.Sprintf("keypad.rows[%d]", i), p)
		}
		for i, p := range k.Cols {
			v.pin(fmt.Sprintf("keypad.cols[%d]", i), p)
		}
		if len(k.Layout) != len(k.Rows)*len(k.Cols) {
			v.fail("keypad.layout", "%d keys for a %dx%d matrix", len(k.Layout), len(k.Rows), len(k.Cols))
		}
		for i, n := range k.Layout {
			if _, err := hal.ParseKey(n); err != nil {
				v.fail(fmt.Sprintf("keypad.layout[%d]", i), "%v", err)
			}
		}
		if k.DebounceMS < 0 || k.DebounceMS > 200 {
			v.fail("keypad.debounce_ms", "%d out of range 0-200", k.DebounceMS)
		}
	default:
		v.fail("keypad.driver", "unknown driver %q (want sim, matrix, evdev)", k.Driver)
	}
}

func (v *validator) badge(f string, b BadgeSpec) {
	// fields lists what each driver takes; any other field set is a
	// mistake worth stopping for.
	fields := map[string]string{"d0": b.D0, "d1": b.D1, "port": b.Port, "bus": b.Bus, "reset": b.Reset, "irq": b.IRQ, "device": b.Device}
	takes := map[string][]string{
		"sim": nil, "wiegand": {"d0", "d1"}, "em4100": {"port"},
		"mfrc522": {"bus", "reset", "irq"}, "evdev": {"device"},
	}
	want, ok := takes[b.Driver]
	if !ok {
		v.fail(f+".driver", "unknown driver %q (want sim, wiegand, em4100, mfrc522, evdev)", b.Driver)
		return
	}
	for _, name := range []string{"d0", "d1", "port", "bus", "reset", "irq", "device"} {
		if !slices.Contains(want, name) {
			v.unused(f+"."+name, b.Driver, fields[name])
		}
	}
	if b.Driver != "em4100" && b.Baud != 0 {
		v.fail(f+".baud", "%d is not used by driver %s", b.Baud, b.Driver)
	}
	switch b.Driver {
	case "wiegand":
		v.pin(f+".d0", b.D0)
		v.pin(f+".d1", b.D1)
	case "em4100":
		if b.Port == "" {
			v.fail(f+".port", "serial port missing (e.g. /dev/ttyUSB0)")
		}
		if b.Baud != 0 && !slices.Contains([]int{9600, 19200, 38400, 57600, 115200}, b.Baud) {
			v.fail(f+".baud", "%d (want 9600, 19200, 38400, 57600 or 115200)", b.Baud)
		}
	case "mfrc522":
		if b.Bus == "" {
			v.fail(f+".bus", "SPI port missing (e.g. /dev/spidev0.0)")
		}
		v.pin(f+".reset", b.Reset)
		if b.IRQ != "" {
			v.pin(f+".irq", b.IRQ)
		}
	case "evdev":
		if b.Device == "" {
			v.fail(f+".device", "input device missing (e.g. /dev/input/by-id/usb-...-event-kbd)")
		}
	}
}

// fingerprint checks the module's driver and port, and that a driven
// fingerprint input has a module and a module has a driven input.
func (v *validator) fingerprint(m Model) {
	driven := false
	for _, in := range m.Inputs {
		driven = driven || in.Kind == InputFingerprint && in.Driven
	}
	fp := m.Fingerprint
	switch {
	case fp == nil && driven:
		v.fail("fingerprint", "missing: the fingerprint input is driven")
		return
	case fp == nil:
		return
	case !driven:
		v.fail("fingerprint", "a module, but no driven fingerprint input")
	}
	switch fp.Driver {
	case "sim":
		v.unused("fingerprint.port", "sim", fp.Port)
		if fp.Baud != 0 {
			v.fail("fingerprint.baud", "not used by driver sim")
		}
	case "r307":
		if fp.Port == "" {
			v.fail("fingerprint.port", "serial port missing (e.g. /dev/ttyS2)")
		}
		if fp.Baud != 0 && (fp.Baud < 9600 || fp.Baud%9600 != 0 || fp.Baud > 115200) {
			v.fail("fingerprint.baud", "%d (want 9600 times 1 to 12: 9600, 19200, ... 57600, ... 115200)", fp.Baud)
		}
	default:
		v.fail("fingerprint.driver", "unknown driver %q (want sim, r307)", fp.Driver)
	}
}

func (v *validator) indicator(in IndicatorSpec) {
	switch in.Driver {
	case "sim":
		v.unused("indicator.green", "sim", in.Green)
		v.unused("indicator.red", "sim", in.Red)
		v.unused("indicator.buzzer", "sim", in.Buzzer)
	case "gpio":
		v.pin("indicator.green", in.Green)
		v.pin("indicator.red", in.Red)
		if in.Buzzer != "" {
			v.pin("indicator.buzzer", in.Buzzer)
		}
	default:
		v.fail("indicator.driver", "unknown driver %q (want sim, gpio)", in.Driver)
	}
}

// simOnlyWithSim: the sim board is one whole simulated clock; its parts
// cannot be mixed with hardware.
func (v *validator) simOnlyWithSim(m Model) {
	sim := m.Display.Driver == "sim"
	check := func(field, driver string) {
		if (driver == "sim") != sim {
			v.fail(field, "driver %s with display driver %s: sim drivers cannot be mixed with hardware drivers", driver, m.Display.Driver)
		}
	}
	check("keypad.driver", m.Keypad.Driver)
	check("indicator.driver", m.Indicator.Driver)
	for i, b := range m.Badges {
		check(fmt.Sprintf("badges[%d].driver", i), b.Driver)
	}
	if m.Fingerprint != nil {
		check("fingerprint.driver", m.Fingerprint.Driver)
	}
}

func (v *validator) inputs(ins []InputSpec) {
	if len(ins) == 0 {
		v.fail("inputs", "missing")
	}
	for i, in := range ins {
		f := fmt.Sprintf("inputs[%d]", i)
		switch in.Kind {
		case InputPIN, InputRFID, InputFingerprint, InputFace:
		default:
			v.fail(f+".kind", "unknown input %q", in.Kind)
		}
		if in.Driven && in.Kind == InputFace {
			v.fail(f, "%s is not driven by this firmware yet", in.Kind)
		}
	}
}

func (v *validator) network(ns []NetIface) {
	if len(ns) == 0 {
		v.fail("network", "missing")
	}
	for i, n := range ns {
		if n.Name == "" || (n.Kind != NetLAN && n.Kind != NetWiFi) {
			v.fail(fmt.Sprintf("network[%d]", i), "want a name and kind lan or wifi, got %q %q", n.Name, n.Kind)
		}
	}
}

// pinsOnce fails when two fields name the same pin.
func (v *validator) pinsOnce() {
	for i, a := range v.pins {
		for _, b := range v.pins[:i] {
			if strings.EqualFold(a.pin, b.pin) {
				v.fail(a.field, "pin %s is also used by %s", a.pin, b.field)
			}
		}
	}
}
