package agent

// This file reads the clock's keypad and badge readers, one goroutine per
// device, into the channels the agent's modes select on. A device that fails
// is logged and retried with a growing pause, so one bad device never stops
// the clock.

import (
	"context"
	"log/slog"
	"sync"

	"timeclock/agent/inputloop"
	"timeclock/clock"
	"timeclock/hal"
)

// inputEvents are the devices' events. The channels are unbuffered: a reader
// waits until its event is taken (or the context ends).
type inputEvents struct {
	Keys    <-chan hal.KeyEvent
	Badges  <-chan hal.BadgeEvent
	Fingers <-chan hal.FingerEvent // nil without a fingerprint module
}

// startInput starts one reader goroutine per device; they stop with ctx or when
// their device is halted, and wg waits for them. clk times the retries.
func startInput(ctx context.Context, wg *sync.WaitGroup, keypad hal.Keypad, badges []hal.BadgeReader, clk clock.Clock, log *slog.Logger) inputEvents {
	keys := make(chan hal.KeyEvent)
	reads := make(chan hal.BadgeEvent)
	wg.Add(1)
	go func() {
		defer wg.Done()
		inputloop.Run(ctx, clk, log, keypad, func(ctx context.Context) error {
			ev, err := keypad.ReadKey(ctx)
			if err == nil {
				select {
				case keys <- ev:
				case <-ctx.Done():
				}
			}
			return err
		})
	}()
	for _, r := range badges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inputloop.Run(ctx, clk, log, r, func(ctx context.Context) error {
				ev, err := r.ReadBadge(ctx)
				if err == nil {
					select {
					case reads <- ev:
					case <-ctx.Done():
					}
				}
				return err
			})
		}()
	}
	return inputEvents{Keys: keys, Badges: reads}
}

// startFingers reads the fingerprint module on its own goroutine (a
// module that fails is retried as any device is); nil without one.
func startFingers(ctx context.Context, wg *sync.WaitGroup, f hal.FingerReader, clk clock.Clock, log *slog.Logger) <-chan hal.FingerEvent {
	if f == nil {
		return nil
	}
	out := make(chan hal.FingerEvent)
	wg.Add(1)
	go func() {
		defer wg.Done()
		inputloop.Run(ctx, clk, log, f, func(ctx context.Context) error {
			ev, err := f.ReadFinger(ctx)
			if err == nil {
				select {
				case out <- ev:
				case <-ctx.Done():
				}
			}
			return err
		})
	}()
	return out
}
