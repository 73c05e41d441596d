package board

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"timeclock/hal"
	"timeclock/hal/fingerprint"
	"timeclock/hal/fingerprint/fpsim"
	"timeclock/hal/sim"
)

// Set is an opened board: one device per role.
type Set struct {
	Model   Model
	Keypad  hal.Keypad
	Display hal.Display
	Badges  []hal.BadgeReader
	// Finger is the fingerprint sensor, nil when the model has none (or an
	// optional one did not answer).
	Finger    hal.FingerReader
	Indicator hal.Indicator
	// Sim is the simulated board behind the devices, nil on real hardware.
	Sim *sim.Board

	closers []io.Closer // buses, closed after the devices are halted
}

// Opts are what opening a board needs beyond the model.
type Opts struct {
	// Sim configures the simulated board (its clock); nil means defaults.
	Sim *sim.Opts
	// Logger gets the drivers' state changes (a reader unplugged and
	// back); nil discards them.
	Logger *slog.Logger
}

// Open opens the model's drivers. Everything opened so far is halted again
// when a later device fails. On real hardware a pin this host lacks is an
// error naming it, before anything is opened.
func Open(m Model, o Opts) (*Set, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("board %w", err)
	}
	if m.Display.Driver == "sim" {
		return openSim(m, o)
	}
	return openHardware(m, o)
}

func openSim(m Model, o Opts) (*Set, error) {
	so := sim.DefaultOpts
	if o.Sim != nil {
		so = *o.Sim
	}
	so.Cols, so.Rows = m.Display.Cols, m.Display.Rows
	b, err := sim.New(&so)
	if err != nil {
		return nil, fmt.Errorf("board %s: %w", m.Name, err)
	}
	s := &Set{
		Model:     m,
		Keypad:    b.Keypad(),
		Display:   b.Display(),
		Badges:    []hal.BadgeReader{b.BadgeReader()},
		Indicator: b.Indicator(),
		Sim:       b,
	}
	if m.Fingerprint != nil {
		// The simulated module on a pty, behind the real driver: the
		// sim punches by finger through the same protocol as a clock.
		pty, err := fpsim.NewPTY(b.FingerSensor(), "")
		if err != nil {
			return nil, fmt.Errorf("board %s: fingerprint: %w", m.Name, err)
		}
		fo := fingerprint.DefaultOpts
		fo.Logger = o.Logger
		d, err := fingerprint.New(pty.Link(), fingerprint.SerialOpener(pty.Link(), fingerprint.DefaultBaud), &fo)
		if err != nil {
			pty.Close()
			return nil, fmt.Errorf("board %s: fingerprint: %w", m.Name, err)
		}
		s.Finger = d
		s.closers = append(s.closers, pty)
	}
	return s, nil
}

// Halt halts every device of the set, then closes the buses, and returns
// the errors joined.
func (s *Set) Halt() error {
	var errs []error
	halt := func(d hal.Device) {
		if d != nil {
			if err := d.Halt(); err != nil {
				errs = append(errs, fmt.Errorf("halt %s: %w", d, err))
			}
		}
	}
	halt(s.Display)
	halt(s.Indicator)
	for _, b := range s.Badges {
		halt(b)
	}
	if s.Finger != nil {
		halt(s.Finger)
	}
	halt(s.Keypad)
	for _, c := range s.closers {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %v: %w", c, err))
		}
	}
	s.closers = nil
	return errors.Join(errs...)
}
