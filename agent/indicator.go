package agent

import (
	"context"
	"log/slog"

	"timeclock/hal"
)

// signaler shows a punch's outcome on the clock's LEDs and buzzer: the
// green or the red LED at once, and a beep pattern the buzzer sounds off the
// punch loop, because a real beep takes longer than a screen update. Device
// errors are logged, never fatal: a clock with a broken buzzer still punches.
type signaler struct {
	ind   hal.Indicator
	log   *slog.Logger
	beeps chan hal.Pattern // Signal -> Run
}

// newSignaler returns a signaler for ind; Run must run for the beeps to sound.
func newSignaler(ind hal.Indicator, log *slog.Logger) *signaler {
	return &signaler{ind: ind, log: log, beeps: make(chan hal.Pattern, 4)}
}

// Run sounds the patterns Signal queues, one after another, until ctx is
// done.
func (s *signaler) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-s.beeps:
			if err := s.ind.Beep(ctx, p); err != nil && ctx.Err() == nil {
				s.log.Error("buzzer", "err", err)
			}
		}
	}
}

// Signal lights the green LED (ok) or the red one and queues the matching
// beep. It never blocks.
func (s *signaler) Signal(ok bool) {
	s.setLEDs(ok, !ok)
	p := hal.PatternOK
	if !ok {
		p = hal.PatternError
	}
	select {
	case s.beeps <- p:
	default: // the buzzer is behind; a missed beep beats a stalled screen
	}
}

// Off puts both LEDs out.
func (s *signaler) Off() { s.setLEDs(false, false) }

func (s *signaler) setLEDs(green, red bool) {
	for _, l := range []struct {
		led hal.LED
		on  bool
	}{{hal.LEDGreen, green}, {hal.LEDRed, red}} {
		if err := s.ind.SetLED(l.led, l.on); err != nil {
			s.log.Error("indicator", "led", l.led.String(), "err", err)
		}
	}
}
