package board

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"timeclock/hal"
)

//go:embed models.json
var modelsJSON []byte

// table is the embedded model table, parsed once.
var table = sync.OnceValues(func() ([]Model, error) { return parse(modelsJSON, "models.json") })

// Names lists the built-in model names in table order.
func Names() []string {
	ms, err := table()
	if err != nil {
		panic(err) // the embedded table is checked by tests
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return names
}

// Models returns the built-in models.
func Models() []Model {
	ms, err := table()
	if err != nil {
		panic(err)
	}
	return slices.Clone(ms)
}

// ErrUnknown is returned for a board name that is not in the table.
var ErrUnknown = errors.New("unknown board")

// Lookup finds a model by name, case-insensitively. Models from extra (an
// integrator's board file) replace built-in ones of the same name. An
// unknown name is an error that lists the valid names.
func Lookup(name string, extra ...Model) (Model, error) {
	all := append(slices.Clone(extra), Models()...)
	for _, m := range all {
		if strings.EqualFold(m.Name, name) {
			return m, nil
		}
	}
	var names []string
	for _, m := range all {
		if !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	return Model{}, fmt.Errorf("%w %q; valid boards: %s", ErrUnknown, name, strings.Join(names, ", "))
}

// LoadFile reads an integrator's board file: a JSON object {"models": [...]}
// using the same fields as the built-in table. Every model is checked; the
// error names the model, the field and the pin or bus.
func LoadFile(path string) ([]Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("board file: %w", err)
	}
	return parse(b, path)
}

func parse(b []byte, src string) ([]Model, error) {
	var f struct {
		Models []Model `json:"models"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("board file %s: %s", src, jsonErr(b, err))
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return nil, fmt.Errorf("board file %s: data after the JSON object", src)
	}
	if len(f.Models) == 0 {
		return nil, fmt.Errorf("board file %s: no models", src)
	}
	seen := map[string]bool{}
	for i, m := range f.Models {
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("board file %s: models[%d]: %w", src, i, err)
		}
		k := strings.ToLower(m.Name)
		if seen[k] {
			return nil, fmt.Errorf("board file %s: models[%d]: name %q appears twice", src, i, m.Name)
		}
		seen[k] = true
	}
	return f.Models, nil
}

// jsonErr adds a line number to JSON syntax and type errors.
func jsonErr(b []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return err.Error()
	}
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	return fmt.Sprintf("line %d: %v", line, err)
}

// Validate checks a model's fields. Pin names are checked against the host
// only when the board is opened.
func (m Model) Validate() error {
	if m.Name == "" {
		return errors.New("name: missing")
	}
	wrap := func(field string, err error) error { return fmt.Errorf("%s: %s: %w", m.Name, field, err) }
	d := m.Display
	switch d.Driver {
	case "sim", "hd44780", "ssd1306":
	default:
		return wrap("display.driver", fmt.Errorf("unknown driver %q (want sim, hd44780, ssd1306)", d.Driver))
	}
	if d.Cols < 8 || d.Cols > 40 || d.Rows < 1 || d.Rows > 8 {
		return wrap("display", fmt.Errorf("geometry %dx%d out of range (8-40 x 1-8)", d.Cols, d.Rows))
	}
	if d.Driver != "sim" && d.Bus == "" {
		return wrap("display.bus", errors.New("missing"))
	}
	switch m.Keypad.Driver {
	case "sim", "evdev":
	case "matrix":
		k := m.Keypad
		if len(k.Rows) == 0 || len(k.Cols) == 0 {
			return wrap("keypad", errors.New("matrix needs rows and cols pins"))
		}
		if len(k.Layout) != len(k.Rows)*len(k.Cols) {
			return wrap("keypad.layout", fmt.Errorf("%d keys for a %dx%d matrix", len(k.Layout), len(k.Rows), len(k.Cols)))
		}
		for i, n := range k.Layout {
			if _, err := hal.ParseKey(n); err != nil {
				return wrap(fmt.Sprintf("keypad.layout[%d]", i), err)
			}
		}
	default:
		return wrap("keypad.driver", fmt.Errorf("unknown driver %q (want sim, matrix, evdev)", m.Keypad.Driver))
	}
	for i, b := range m.Badges {
		switch b.Driver {
		case "sim", "wiegand", "em4100", "mfrc522", "evdev":
		default:
			return wrap(fmt.Sprintf("badges[%d].driver", i), fmt.Errorf("unknown driver %q (want sim, wiegand, em4100, mfrc522, evdev)", b.Driver))
		}
	}
	switch m.Indicator.Driver {
	case "sim", "gpio":
	default:
		return wrap("indicator.driver", fmt.Errorf("unknown driver %q (want sim, gpio)", m.Indicator.Driver))
	}
	if len(m.Inputs) == 0 {
		return wrap("inputs", errors.New("missing"))
	}
	for i, in := range m.Inputs {
		switch in.Kind {
		case InputPIN, InputRFID, InputFingerprint, InputFace:
		default:
			return wrap(fmt.Sprintf("inputs[%d].kind", i), fmt.Errorf("unknown input %q", in.Kind))
		}
		if in.Driven && (in.Kind == InputFingerprint || in.Kind == InputFace) {
			return wrap(fmt.Sprintf("inputs[%d]", i), fmt.Errorf("%s is not driven by this firmware yet", in.Kind))
		}
	}
	if len(m.Network) == 0 {
		return wrap("network", errors.New("missing"))
	}
	for i, n := range m.Network {
		if n.Name == "" || (n.Kind != NetLAN && n.Kind != NetWiFi) {
			return wrap(fmt.Sprintf("network[%d]", i), fmt.Errorf("want a name and kind lan or wifi, got %q %q", n.Name, n.Kind))
		}
	}
	return nil
}
