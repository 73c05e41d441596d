// Package ledbuzzer drives the clock's green and red LEDs and its buzzer on
// GPIO lines (active high: an LED through its resistor to ground, an
// active buzzer through a transistor). The buzzer sounds a pattern per
// hal.Pattern: one short beep for OK, three for an error.
package ledbuzzer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"timeclock/hal"
)

// Opts configures the patterns.
type Opts struct {
	// OK and Error are buzzer patterns: durations on, off, on, ...
	OK, Error []time.Duration
}

// DefaultOpts: 80 ms for OK; three 150 ms beeps 100 ms apart for an error,
// which a person tells apart without looking.
var DefaultOpts = Opts{
	OK:    []time.Duration{80 * time.Millisecond},
	Error: []time.Duration{150 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond},
}

// Dev is the LEDs and buzzer.
type Dev struct {
	green, red, buzzer gpio.PinOut
	opts               Opts
	done               chan struct{}
	halt               sync.Once
	haltErr            error
	beep               sync.Mutex // one pattern at a time
}

var _ hal.Indicator = (*Dev)(nil)

// New switches everything off and returns the indicator. buzzer may be nil
// on a model without one; Beep then only waits for ctx to be checked.
func New(green, red, buzzer gpio.PinOut, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if len(o.OK) == 0 || len(o.Error) == 0 {
		return nil, errors.New("ledbuzzer: empty buzzer pattern")
	}
	d := &Dev{green: green, red: red, buzzer: buzzer, opts: o, done: make(chan struct{})}
	if err := d.allOff(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Dev) String() string {
	b := "none"
	if d.buzzer != nil {
		b = d.buzzer.Name()
	}
	return fmt.Sprintf("ledbuzzer(green=%s,red=%s,buzzer=%s)", d.green.Name(), d.red.Name(), b)
}

// SetLED switches one LED.
func (d *Dev) SetLED(led hal.LED, on bool) error {
	var p gpio.PinOut
	switch led {
	case hal.LEDGreen:
		p = d.green
	case hal.LEDRed:
		p = d.red
	default:
		return fmt.Errorf("ledbuzzer: no LED %v", led)
	}
	select {
	case <-d.done:
		return hal.ErrHalted
	default:
	}
	if err := p.Out(gpio.Level(on)); err != nil {
		return fmt.Errorf("ledbuzzer: %v LED: %w", led, err)
	}
	return nil
}

// Beep sounds a pattern. It returns when the pattern is over, or early
// with the buzzer off when ctx is done or the device is halted.
func (d *Dev) Beep(ctx context.Context, p hal.Pattern) error {
	var steps []time.Duration
	switch p {
	case hal.PatternOK:
		steps = d.opts.OK
	case hal.PatternError:
		steps = d.opts.Error
	default:
		return fmt.Errorf("ledbuzzer: unknown pattern %v", p)
	}
	d.beep.Lock()
	defer d.beep.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-d.done:
		return hal.ErrHalted
	default:
	}
	if d.buzzer == nil {
		return nil
	}
	t := time.NewTimer(0)
	<-t.C
	defer t.Stop()
	for i, dur := range steps {
		if err := d.buzzer.Out(gpio.Level(i%2 == 0)); err != nil {
			d.buzzer.Out(gpio.Low)
			return fmt.Errorf("ledbuzzer: buzzer: %w", err)
		}
		t.Reset(dur)
		select {
		case <-t.C:
			continue
		case <-ctx.Done():
			d.buzzer.Out(gpio.Low)
			return ctx.Err()
		case <-d.done:
			d.buzzer.Out(gpio.Low)
			return hal.ErrHalted
		}
	}
	if err := d.buzzer.Out(gpio.Low); err != nil {
		return fmt.Errorf("ledbuzzer: buzzer: %w", err)
	}
	return nil
}

// Halt switches everything off; a Beep under way stops.
func (d *Dev) Halt() error {
	d.halt.Do(func() {
		close(d.done)
		d.beep.Lock() // wait for a Beep to see done and let go
		defer d.beep.Unlock()
		d.haltErr = d.allOff()
	})
	return d.haltErr
}

func (d *Dev) allOff() error {
	var errs []error
	for _, p := range []gpio.PinOut{d.green, d.red, d.buzzer} {
		if p == nil {
			continue
		}
		if err := p.Out(gpio.Low); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ledbuzzer: switch off: %w", err)
	}
	return nil
}
