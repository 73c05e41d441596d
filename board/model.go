// Package board knows the clock models as data (models.json, embedded) and
// opens a model's drivers into a set of HAL devices. It is, with cmd/*, the
// only place that picks concrete drivers.
package board

import (
	"fmt"
	"strings"
)

// Model describes one clock model: what it has and how it is wired.
type Model struct {
	Name        string `json:"name"`
	Family      string `json:"family"`
	Description string `json:"description"`

	Display DisplaySpec `json:"display"`
	Keypad  KeypadSpec  `json:"keypad"`
	Badges  []BadgeSpec `json:"badges,omitempty"`
	// Fingerprint is the fingerprint module, nil when the model has none.
	Fingerprint *FingerprintSpec `json:"fingerprint,omitempty"`
	Indicator   IndicatorSpec    `json:"indicator"`
	Inputs      []InputSpec      `json:"inputs"`
	Network     []NetIface       `json:"network"`
}

// DisplaySpec is the display and its driver.
type DisplaySpec struct {
	Driver string `json:"driver"` // sim, hd44780, ssd1306
	Cols   int    `json:"cols"`
	Rows   int    `json:"rows"`
	Bus    string `json:"bus,omitempty"`  // I2C bus name, e.g. "/dev/i2c-1" or "1"
	Addr   uint16 `json:"addr,omitempty"` // I2C address
}

// KeypadSpec is the keypad and its driver.
type KeypadSpec struct {
	Driver string   `json:"driver"`           // sim, matrix, evdev
	Rows   []string `json:"rows,omitempty"`   // matrix: row pins, driven
	Cols   []string `json:"cols,omitempty"`   // matrix: column pins, read with pull-ups
	Layout []string `json:"layout,omitempty"` // matrix: key names, row by row
	// DebounceMS is how long a matrix key must read the same before it
	// counts (0: the driver's 20 ms).
	DebounceMS int    `json:"debounce_ms,omitempty"`
	Device     string `json:"device,omitempty"` // evdev: /dev/input/eventN or by-path name
}

// BadgeSpec is one badge reader and its driver.
type BadgeSpec struct {
	Driver string `json:"driver"`           // sim, wiegand, em4100, mfrc522, evdev
	D0     string `json:"d0,omitempty"`     // wiegand data-0 pin
	D1     string `json:"d1,omitempty"`     // wiegand data-1 pin
	Port   string `json:"port,omitempty"`   // em4100 serial port
	Baud   int    `json:"baud,omitempty"`   // em4100 speed (0: 9600)
	Bus    string `json:"bus,omitempty"`    // mfrc522 SPI port
	Reset  string `json:"reset,omitempty"`  // mfrc522 reset pin
	IRQ    string `json:"irq,omitempty"`    // mfrc522 interrupt pin (optional: polled without)
	Device string `json:"device,omitempty"` // evdev keyboard-wedge reader
}

// FingerprintSpec is the fingerprint module and its driver.
type FingerprintSpec struct {
	Driver string `json:"driver"`         // sim, r307 (R307, R503, ZFM-20, AS608: one protocol)
	Port   string `json:"port,omitempty"` // r307: serial port
	Baud   int    `json:"baud,omitempty"` // r307: speed (0: 57600, the modules' default)
	// Optional: a module that does not answer at start is left out and the
	// clock runs without fingerprints (an add-on, as on the dev kit); a
	// model's own module must answer.
	Optional bool `json:"optional,omitempty"`
}

// IndicatorSpec is the LEDs and buzzer.
type IndicatorSpec struct {
	Driver string `json:"driver"` // sim, gpio
	Green  string `json:"green,omitempty"`
	Red    string `json:"red,omitempty"`
	Buzzer string `json:"buzzer,omitempty"` // optional: a model may have none
}

// Input is a way an employee identifies at the clock.
type Input string

// Inputs a model may have.
const (
	InputPIN         Input = "pin"
	InputRFID        Input = "rfid"
	InputFingerprint Input = "fingerprint"
	InputFace        Input = "face"
)

// InputSpec says whether a model has an input and whether this firmware
// drives it (face is not driven yet).
type InputSpec struct {
	Kind   Input `json:"kind"`
	Driven bool  `json:"driven"`
}

// NetKind is the kind of a network interface.
type NetKind string

// Network interface kinds; onboarding prefers LAN.
const (
	NetLAN  NetKind = "lan"
	NetWiFi NetKind = "wifi"
)

// NetIface is one network interface of a model.
type NetIface struct {
	Name string  `json:"name"` // e.g. eth0, wlan0
	Kind NetKind `json:"kind"`
}

// Has reports whether the model has an input, driven or not.
func (m Model) Has(in Input) bool {
	for _, s := range m.Inputs {
		if s.Kind == in {
			return true
		}
	}
	return false
}

func (m Model) String() string {
	var ins []string
	for _, s := range m.Inputs {
		n := string(s.Kind)
		if !s.Driven {
			n += " (not driven yet)"
		}
		ins = append(ins, n)
	}
	return fmt.Sprintf("%s: %dx%d %s, %s", m.Name, m.Display.Cols, m.Display.Rows, m.Display.Driver, strings.Join(ins, ", "))
}
