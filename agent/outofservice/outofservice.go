// Package outofservice owns the clock's out-of-service mode: what the clock
// does while systemd has given up on the agent (too many failed starts) and
// waits before trying it again. The display says the clock is out of
// service and counts down to the retry, the red LED is on, and every badge,
// key and finger gets the error beep and is not recorded: the mode never
// opens the state, which may be what is broken. It knows only the hal
// devices and a clock; cmd/timeclockd opens the board and runs it
// (timeclockd --out-of-service, docs/operations.md).
package outofservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"timeclock/agent/inputloop"
	"timeclock/clock"
	"timeclock/hal"
)

// Devices are the opened board's devices the mode uses; any may be nil
// except Display.
type Devices struct {
	Display   hal.Display
	Keypad    hal.Keypad
	Badges    []hal.BadgeReader
	Finger    hal.FingerReader
	Indicator hal.Indicator
}

// Options configure one run of the mode.
type Options struct {
	// Clock times the countdown; clock.Real outside tests.
	Clock clock.Clock
	// RetryAt is when the agent is tried again: Run returns then.
	RetryAt time.Time
	// Log gets the refused inputs and device errors; nil discards them.
	Log *slog.Logger
	// Tick, when set, is called from the mode's loop after every redraw
	// with the time left (rounded up to the second): the caller's status
	// line and watchdog ping. It must not block.
	Tick func(left time.Duration)
	// Refused, when set, is called for each input the mode refused, with
	// its kind ("badge", "key", "finger").
	Refused func(kind string)
}

// Run shows the out-of-service screen and counts down until RetryAt, then
// returns nil (the caller starts the agent again). It returns ctx.Err()
// when ctx ends first. Device errors never end it: a clock whose display
// fails still waits out its pause, so the retry keeps its pace.
func Run(ctx context.Context, dev Devices, o Options) error {
	if dev.Display == nil {
		return errors.New("outofservice: no display")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	inputs := make(chan string) // the kind of each input refused
	startReaders(ctx, &wg, dev, o, inputs)
	beeps := make(chan struct{}, 4)
	if dev.Indicator != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buzz(ctx, dev.Indicator, beeps, o.Log)
		}()
		setLEDs(dev.Indicator, o.Log)
	}

	cols, rows := dev.Display.Size()
	shown := ""
	for {
		left := Left(o.Clock.Now(), o.RetryAt)
		if lines := Screen(cols, rows, left); strings.Join(lines, "\n") != shown {
			if err := dev.Display.Show(lines); err != nil {
				o.Log.Error("out of service: display", "err", err)
			} else {
				shown = strings.Join(lines, "\n")
			}
		}
		if o.Tick != nil {
			o.Tick(left)
		}
		if left <= 0 {
			return nil
		}
		// Wake at the next whole second of the countdown.
		wait := o.RetryAt.Sub(o.Clock.Now()) - (left - time.Second)
		if wait <= 0 || wait > time.Second {
			wait = time.Second
		}
		t := o.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		case kind := <-inputs:
			t.Stop()
			o.Log.Info("out of service: input refused, nothing recorded", "input", kind)
			if dev.Indicator != nil {
				setLEDs(dev.Indicator, o.Log)
				select {
				case beeps <- struct{}{}:
				default: // the buzzer is behind: a missed beep beats a stalled countdown
				}
			}
			if o.Refused != nil {
				o.Refused(kind)
			}
		}
	}
}

// Left is the time from now until at, rounded up to the whole second (the
// countdown shows 0:01 until the very end), and 0 once at is reached.
func Left(now, at time.Time) time.Duration {
	d := at.Sub(now)
	if d <= 0 {
		return 0
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// Screen is the out-of-service screen for a cols x rows display with left
// until the retry:
//
//	  Out of service
//	Use another clock
//
//	  Retry in 4:59
//
// On two lines the advice gives way to the countdown.
func Screen(cols, rows int, left time.Duration) []string {
	advice := "Use another clock"
	if cols < len(advice) {
		advice = "Use other clock"
	}
	retry := "Retrying now"
	if left > 0 {
		retry = "Retry in " + Countdown(left)
	}
	var lines []string
	switch {
	case rows >= 4:
		lines = []string{"Out of service", advice, "", retry}
	case rows == 3:
		lines = []string{"Out of service", advice, retry}
	case rows == 2:
		lines = []string{"Out of service", retry}
	default:
		lines = []string{"Out of service"}
	}
	for i, l := range lines {
		lines[i] = center(l, cols)
	}
	return lines
}

// Countdown writes d as m:ss, or h:mm:ss from an hour.
func Countdown(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// center pads s to sit in the middle of cols cells.
func center(s string, cols int) string {
	n := len([]rune(s))
	if n == 0 || n >= cols {
		return s
	}
	return strings.Repeat(" ", (cols-n)/2) + s
}

// setLEDs: red on, green off, whatever the last input did.
func setLEDs(ind hal.Indicator, log *slog.Logger) {
	for _, l := range []struct {
		led hal.LED
		on  bool
	}{{hal.LEDGreen, false}, {hal.LEDRed, true}} {
		if err := ind.SetLED(l.led, l.on); err != nil {
			log.Error("out of service: indicator", "led", l.led.String(), "err", err)
		}
	}
}

// buzz sounds the error pattern once per queued refusal, off the mode's
// loop (a real beep takes longer than a redraw).
func buzz(ctx context.Context, ind hal.Indicator, beeps <-chan struct{}, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-beeps:
			if err := ind.Beep(ctx, hal.PatternError); err != nil && ctx.Err() == nil {
				log.Error("out of service: buzzer", "err", err)
			}
		}
	}
}

// startReaders reads every input device on its own goroutine and sends
// the kind of each input to out. Only that an input came is passed on:
// never a badge number, a key or a finger's slot.
func startReaders(ctx context.Context, wg *sync.WaitGroup, dev Devices, o Options, out chan<- string) {
	read := func(d hal.Device, kind string, next func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inputloop.Run(ctx, o.Clock, o.Log.With("mode", "out-of-service"), d, func(ctx context.Context) error {
				if err := next(ctx); err != nil {
					return err
				}
				select {
				case out <- kind:
				case <-ctx.Done():
				}
				return nil
			})
		}()
	}
	if dev.Keypad != nil {
		read(dev.Keypad, "key", func(ctx context.Context) error { _, err := dev.Keypad.ReadKey(ctx); return err })
	}
	for _, b := range dev.Badges {
		read(b, "badge", func(ctx context.Context) error { _, err := b.ReadBadge(ctx); return err })
	}
	if dev.Finger != nil {
		read(dev.Finger, "finger", func(ctx context.Context) error { _, err := dev.Finger.ReadFinger(ctx); return err })
	}
}
