package console

import (
	"context"
	"errors"
	"slices"
	"sync"

	"timeclock/hal"
)

// errLent is returned by Borrow while the devices are already lent.
var errLent = errors.New("console: the devices are lent to another check")

// lentQueue is how many events a borrower may leave unread before losing some.
const lentQueue = 16

// Lent is what a borrower gets.
type Lent struct {
	// Keys and Badges receive the key presses and badge reads.
	Keys   <-chan hal.KeyEvent
	Badges <-chan hal.BadgeEvent
	// Display and Indicator are the real devices; nil when the clock has none.
	Display   hal.Display
	Indicator hal.Indicator
	// BadFrames sums the rejected-frame counters of the badge readers that
	// keep one; ok is false when none does.
	BadFrames func() (n uint64, ok bool)
}

// Tap sits between the agent and the clock's devices so that the console's
// hardware checks can borrow them. While the devices are lent, key presses
// and badge reads go to the borrower instead of the punch flow, the
// borrower alone drives the display and the LEDs, and what the agent shows
// meanwhile is kept; on return the agent's last screen and LED state come
// back.
//
// cmd/timeclockd wraps the board's devices with a Tap before handing them
// to the agent (agent.Hardware.Tapped). The wrappers cost one mutex per
// event and never block the agent: a borrower that does not keep up loses
// events, the agent never waits for it. The zero value is not usable; call
// NewTap.
type Tap struct {
	mu        sync.Mutex
	lent      bool                // guarded by mu
	keys      chan hal.KeyEvent   // guarded by mu; nil unless lent
	badges    chan hal.BadgeEvent // guarded by mu; nil unless lent
	display   hal.Display         // the wrapped display, nil until wrapped
	screen    []string            // guarded by mu; the agent's last screen
	indicator hal.Indicator       // the wrapped indicator
	leds      map[hal.LED]bool    // guarded by mu; the agent's LED state
	counters  []hal.FrameCounter  // readers that count bad frames
}

// NewTap returns a tap with nothing wrapped yet.
func NewTap() *Tap { return &Tap{leds: map[hal.LED]bool{}} }

// Borrow lends the devices until release is called (release may be called
// more than once). It fails with errLent while they are lent.
func (t *Tap) Borrow() (Lent, func(), error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lent {
		return Lent{}, nil, errLent
	}
	t.lent = true
	t.keys = make(chan hal.KeyEvent, lentQueue)
	t.badges = make(chan hal.BadgeEvent, lentQueue)
	counters := slices.Clone(t.counters)
	l := Lent{
		Keys: t.keys, Badges: t.badges, Display: t.display, Indicator: t.indicator,
		BadFrames: func() (uint64, bool) {
			var n uint64
			for _, c := range counters {
				n += c.BadFrames()
			}
			return n, len(counters) > 0
		},
	}
	var once sync.Once
	return l, func() { once.Do(t.giveBack) }, nil
}

// giveBack ends the loan and restores the agent's screen and LEDs. The
// restore happens under the lock so an agent update cannot slip between.
func (t *Tap) giveBack() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lent, t.keys, t.badges = false, nil, nil
	if t.display != nil {
		if t.screen != nil {
			t.display.Show(t.screen)
		} else {
			t.display.Clear()
		}
	}
	if t.indicator != nil {
		for _, led := range []hal.LED{hal.LEDGreen, hal.LEDRed} {
			t.indicator.SetLED(led, t.leds[led])
		}
	}
}

// Lent reports whether the devices are lent now.
func (t *Tap) Lent() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lent
}

// Keypad wraps the agent's keypad.
func (t *Tap) Keypad(k hal.Keypad) hal.Keypad { return &tappedKeypad{Keypad: k, t: t} }

// BadgeReader wraps one of the agent's badge readers.
func (t *Tap) BadgeReader(r hal.BadgeReader) hal.BadgeReader {
	if fc, ok := r.(hal.FrameCounter); ok {
		t.mu.Lock()
		t.counters = append(t.counters, fc)
		t.mu.Unlock()
		return &tappedCountingReader{tappedReader{BadgeReader: r, t: t}, fc}
	}
	return &tappedReader{BadgeReader: r, t: t}
}

// Display wraps the agent's display. Call it once.
func (t *Tap) Display(d hal.Display) hal.Display {
	t.mu.Lock()
	t.display = d
	t.mu.Unlock()
	w := &tappedDisplay{Display: d, t: t}
	if bl, ok := d.(hal.Backlight); ok {
		return &tappedBacklitDisplay{tappedDisplay: w, bl: bl}
	}
	return w
}

// Indicator wraps the agent's indicator. Call it once.
func (t *Tap) Indicator(i hal.Indicator) hal.Indicator {
	t.mu.Lock()
	t.indicator = i
	t.mu.Unlock()
	return &tappedIndicator{Indicator: i, t: t}
}

type tappedKeypad struct {
	hal.Keypad
	t *Tap
}

// ReadKey returns the next key press that is not diverted to a borrower.
func (k *tappedKeypad) ReadKey(ctx context.Context) (hal.KeyEvent, error) {
	for {
		ev, err := k.Keypad.ReadKey(ctx)
		if err != nil || !k.t.divertKey(ev) {
			return ev, err
		}
	}
}

func (t *Tap) divertKey(ev hal.KeyEvent) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.lent {
		return false
	}
	select {
	case t.keys <- ev:
	default: // the borrower is not keeping up: the press is lost, never the agent blocked
	}
	return true
}

type tappedReader struct {
	hal.BadgeReader
	t *Tap
}

// ReadBadge returns the next badge read that is not diverted to a borrower.
func (r *tappedReader) ReadBadge(ctx context.Context) (hal.BadgeEvent, error) {
	for {
		ev, err := r.BadgeReader.ReadBadge(ctx)
		if err != nil || !r.t.divertBadge(ev) {
			return ev, err
		}
	}
}

type tappedCountingReader struct {
	tappedReader
	fc hal.FrameCounter
}

func (r *tappedCountingReader) BadFrames() uint64 { return r.fc.BadFrames() }

func (t *Tap) divertBadge(ev hal.BadgeEvent) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.lent {
		return false
	}
	select {
	case t.badges <- ev:
	default:
	}
	return true
}

type tappedDisplay struct {
	hal.Display
	t *Tap
}

// Show shows the agent's screen, or only remembers it while lent.
func (d *tappedDisplay) Show(lines []string) error {
	d.t.mu.Lock()
	defer d.t.mu.Unlock()
	d.t.screen = slices.Clone(lines)
	if d.t.screen == nil {
		d.t.screen = []string{}
	}
	if d.t.lent {
		return nil
	}
	return d.Display.Show(lines)
}

// Clear blanks the agent's screen, or only remembers that while lent.
func (d *tappedDisplay) Clear() error {
	d.t.mu.Lock()
	defer d.t.mu.Unlock()
	d.t.screen = nil
	if d.t.lent {
		return nil
	}
	return d.Display.Clear()
}

type tappedBacklitDisplay struct {
	*tappedDisplay
	bl hal.Backlight
}

func (d *tappedBacklitDisplay) SetBacklight(on bool) error { return d.bl.SetBacklight(on) }

type tappedIndicator struct {
	hal.Indicator
	t *Tap
}

// SetLED switches the LED, or only remembers the agent's wish while lent.
func (i *tappedIndicator) SetLED(led hal.LED, on bool) error {
	i.t.mu.Lock()
	defer i.t.mu.Unlock()
	i.t.leds[led] = on
	if i.t.lent {
		return nil
	}
	return i.Indicator.SetLED(led, on)
}

// Beep sounds unless the indicator is lent: a beep cannot be put back later.
func (i *tappedIndicator) Beep(ctx context.Context, p hal.Pattern) error {
	if i.t.Lent() {
		return nil
	}
	return i.Indicator.Beep(ctx, p)
}
