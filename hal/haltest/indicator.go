package haltest

import (
	"context"
	"errors"
	"testing"

	"timeclock/hal"
	"timeclock/internal/await"
)

// IndicatorHarness is one indicator under test and the means to see it.
type IndicatorHarness struct {
	Dev hal.Indicator
	// LED reports whether an LED is lit.
	LED func(l hal.LED) bool
	// Sounded counts what the buzzer has sounded so far (patterns or
	// pulses); it must grow with every Beep.
	Sounded func() int
	// Buzzing reports whether the buzzer sounds right now; nil when a
	// pattern takes no time (the sim).
	Buzzing func() bool
}

// Indicator checks the rules every hal.Indicator keeps. open makes a fresh
// device for each rule; the suite halts it.
func Indicator(t *testing.T, open func(t *testing.T) IndicatorHarness) {
	start := func(t *testing.T) IndicatorHarness {
		t.Helper()
		h := open(t)
		t.Cleanup(func() { h.Dev.Halt() })
		return h
	}
	quiet := func(t *testing.T, h IndicatorHarness) {
		t.Helper()
		if h.Buzzing != nil && h.Buzzing() {
			t.Fatal("buzzer still sounds after Beep returned")
		}
	}

	t.Run("String", func(t *testing.T) {
		if h := start(t); h.Dev.String() == "" {
			t.Fatal("String() is empty")
		}
	})
	t.Run("LEDs", func(t *testing.T) {
		h := start(t)
		for _, step := range []struct {
			led hal.LED
			on  bool
		}{{hal.LEDGreen, true}, {hal.LEDRed, true}, {hal.LEDGreen, false}, {hal.LEDRed, false}, {hal.LEDRed, true}} {
			other := hal.LEDRed
			if step.led == hal.LEDRed {
				other = hal.LEDGreen
			}
			before := h.LED(other)
			if err := h.Dev.SetLED(step.led, step.on); err != nil {
				t.Fatalf("SetLED(%v, %v): %v", step.led, step.on, err)
			}
			if h.LED(step.led) != step.on {
				t.Fatalf("after SetLED(%v, %v) the LED is %v", step.led, step.on, h.LED(step.led))
			}
			if h.LED(other) != before {
				t.Fatalf("SetLED(%v, %v) changed the %v LED", step.led, step.on, other)
			}
		}
	})
	t.Run("UnknownLED", func(t *testing.T) {
		h := start(t)
		if err := h.Dev.SetLED(hal.LED(42), true); err == nil {
			t.Fatal("SetLED(LED(42)) accepted")
		}
	})
	for _, p := range []hal.Pattern{hal.PatternOK, hal.PatternError} {
		t.Run("Beep"+p.String(), func(t *testing.T) {
			h := start(t)
			before := h.Sounded()
			if err := h.Dev.Beep(context.Background(), p); err != nil {
				t.Fatalf("Beep(%v): %v", p, err)
			}
			if h.Sounded() <= before {
				t.Fatalf("Beep(%v) sounded nothing", p)
			}
			quiet(t, h)
		})
	}
	t.Run("UnknownPattern", func(t *testing.T) {
		h := start(t)
		if err := h.Dev.Beep(context.Background(), hal.Pattern(99)); err == nil {
			t.Fatal("Beep(Pattern(99)) accepted")
		}
	})
	t.Run("BeepCanceledContext", func(t *testing.T) {
		h := start(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := h.Dev.Beep(ctx, hal.PatternError); !errors.Is(err, context.Canceled) {
			t.Fatalf("Beep(canceled) = %v, want context.Canceled", err)
		}
		quiet(t, h)
	})
	t.Run("BeepStopsWhenCanceled", func(t *testing.T) {
		h := start(t)
		if h.Buzzing == nil {
			t.Skip("patterns take no time")
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- h.Dev.Beep(ctx, hal.PatternError) }()
		await.True(t, Deadline, h.Buzzing, "the buzzer never sounded")
		cancel()
		if err := recvErr(t, errc); !errors.Is(err, context.Canceled) {
			t.Fatalf("Beep canceled midway = %v, want context.Canceled", err)
		}
		quiet(t, h)
	})
	t.Run("HaltSwitchesOff", func(t *testing.T) {
		h := start(t)
		h.Dev.SetLED(hal.LEDGreen, true)
		h.Dev.SetLED(hal.LEDRed, true)
		if err := h.Dev.Halt(); err != nil {
			t.Fatalf("Halt: %v", err)
		}
		if h.LED(hal.LEDGreen) || h.LED(hal.LEDRed) {
			t.Fatal("an LED is still lit after Halt")
		}
		quiet(t, h)
	})
	t.Run("HaltTwice", func(t *testing.T) {
		h := start(t)
		if err := h.Dev.Halt(); err != nil {
			t.Fatalf("first Halt: %v", err)
		}
		if err := h.Dev.Halt(); err != nil {
			t.Fatalf("second Halt: %v", err)
		}
	})
}
