package ledbuzzer

import (
	"context"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"timeclock/hal"
	"timeclock/hal/haltest"
	"timeclock/internal/await"
)

// buzzer is a gpiotest pin that counts how often it was switched on.
type buzzer struct {
	*gpiotest.Pin
	mu     sync.Mutex
	pulses int
}

func (b *buzzer) Out(l gpio.Level) error {
	if l == gpio.High && b.Read() == gpio.Low {
		b.mu.Lock()
		b.pulses++
		b.mu.Unlock()
	}
	return b.Pin.Out(l)
}

func (b *buzzer) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pulses
}

type rig struct {
	d          *Dev
	green, red *gpiotest.Pin
	buzz       *buzzer
}

// short patterns: a test waits for them to end, never for a guessed time.
var short = Opts{OK: []time.Duration{2 * time.Millisecond}, Error: []time.Duration{2 * time.Millisecond, time.Millisecond, 2 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}}

func newRig(t *testing.T, o *Opts) *rig {
	t.Helper()
	r := &rig{
		green: &gpiotest.Pin{N: "GPIO22", L: gpio.High},
		red:   &gpiotest.Pin{N: "GPIO23", L: gpio.High},
		buzz:  &buzzer{Pin: &gpiotest.Pin{N: "GPIO18"}},
	}
	d, err := New(r.green, r.red, r.buzz, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	r.d = d
	return r
}

func TestSuite(t *testing.T) {
	haltest.Indicator(t, func(t *testing.T) haltest.IndicatorHarness {
		// An error pattern long enough for the suite to cancel it midway.
		o := short
		o.Error = []time.Duration{time.Second}
		r := newRig(t, &o)
		return haltest.IndicatorHarness{
			Dev: r.d,
			LED: func(l hal.LED) bool {
				if l == hal.LEDGreen {
					return r.green.Read() == gpio.High
				}
				return r.red.Read() == gpio.High
			},
			Sounded: r.buzz.count,
			Buzzing: func() bool { return r.buzz.Read() == gpio.High },
		}
	})
}

func TestPatterns(t *testing.T) {
	r := newRig(t, &short)
	if r.green.Read() != gpio.Low || r.red.Read() != gpio.Low {
		t.Fatal("LEDs not switched off by New")
	}
	for _, tc := range []struct {
		p      hal.Pattern
		pulses int
	}{{hal.PatternOK, 1}, {hal.PatternError, 3}} {
		before := r.buzz.count()
		if err := r.d.Beep(context.Background(), tc.p); err != nil {
			t.Fatal(err)
		}
		if n := r.buzz.count() - before; n != tc.pulses {
			t.Errorf("%v: %d buzzer pulses, want %d", tc.p, n, tc.pulses)
		}
	}
}

func TestHaltStopsBeep(t *testing.T) {
	o := short
	o.OK = []time.Duration{time.Hour}
	r := newRig(t, &o)
	errc := make(chan error, 1)
	go func() { errc <- r.d.Beep(context.Background(), hal.PatternOK) }()
	await.True(t, haltest.Deadline, func() bool { return r.buzz.count() > 0 }, "the buzzer never sounded")
	r.d.Halt()
	if err := <-errc; err != hal.ErrHalted {
		t.Fatalf("Beep during Halt = %v", err)
	}
	if r.buzz.Read() != gpio.Low {
		t.Fatal("buzzer on after Halt")
	}
}

func TestNoBuzzer(t *testing.T) {
	d, err := New(&gpiotest.Pin{N: "G"}, &gpiotest.Pin{N: "R"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Beep(context.Background(), hal.PatternError); err != nil {
		t.Fatal(err)
	}
	d.Halt()
}
