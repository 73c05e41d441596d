package evdev

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"timeclock/hal"
	"timeclock/hal/internal/portloop"
)

// WedgeOpts configures a keyboard-wedge reader.
type WedgeOpts struct {
	// Gap is the longest pause between two keystrokes of one card number;
	// digits followed by a longer pause and no Enter are a bad frame.
	// Readers type a number in a few tens of milliseconds.
	Gap time.Duration
	// MaxDigits bounds a card number.
	MaxDigits int
	// EventSize is the input_event size; 0 means this program's.
	EventSize int
	// Queue is how many reads may wait unread; more are dropped.
	Queue int
	// Logger gets the device's state changes (unplugged, back).
	Logger *slog.Logger
}

// DefaultWedgeOpts allows 500 ms between keystrokes and 20 digits.
var DefaultWedgeOpts = WedgeOpts{Gap: 500 * time.Millisecond, MaxDigits: 20, EventSize: EventSize, Queue: 16}

// WedgeError is a typed number the reader rejected. It wraps
// hal.ErrBadFrame.
type WedgeError struct {
	Digits int
	Reason string
}

func (e *WedgeError) Error() string {
	return fmt.Sprintf("evdev: bad card number (%d digits typed): %s", e.Digits, e.Reason)
}

// Unwrap makes errors.Is(err, hal.ErrBadFrame) hold.
func (e *WedgeError) Unwrap() error { return hal.ErrBadFrame }

// Wedge is a keyboard-wedge badge reader.
type Wedge struct {
	name  string
	opts  WedgeOpts
	reads chan result
	done  chan struct{}
	halt  sync.Once
	loop  *portloop.Loop
	err   error
	bad   atomic.Uint64

	// Owned by the read loop's goroutine.
	dec    decoder
	digits []byte
	why    string    // set when the number being typed is already bad
	last   time.Time // time of the last keystroke
}

type result struct {
	ev  hal.BadgeEvent
	err error
}

var (
	_ hal.BadgeReader  = (*Wedge)(nil)
	_ hal.FrameCounter = (*Wedge)(nil)
)

// NewWedge opens the reader with open and reads card numbers from it.
func NewWedge(name string, open Opener, opts *WedgeOpts) (*Wedge, error) {
	o := DefaultWedgeOpts
	if opts != nil {
		o = *opts
	}
	if o.EventSize == 0 {
		o.EventSize = EventSize
	}
	if o.EventSize != 16 && o.EventSize != 24 {
		return nil, fmt.Errorf("evdev: event size %d (want 16 or 24)", o.EventSize)
	}
	if o.Gap <= 0 || o.MaxDigits < 1 {
		return nil, fmt.Errorf("evdev: gap %v and max digits %d must be positive", o.Gap, o.MaxDigits)
	}
	if o.Queue < 1 {
		o.Queue = 16
	}
	f, err := open()
	if err != nil {
		return nil, err
	}
	w := &Wedge{name: name, opts: o, dec: decoder{size: o.EventSize}, reads: make(chan result, o.Queue), done: make(chan struct{})}
	w.loop = portloop.Start(f, open, w.chunk, portloop.Opts{Name: name, Logger: o.Logger, ChunkSize: 64 * o.EventSize})
	return w, nil
}

func (w *Wedge) String() string { return "evdev-wedge(" + w.name + ")" }

// BadFrames counts the numbers rejected so far.
func (w *Wedge) BadFrames() uint64 { return w.bad.Load() }

// ReadBadge returns the next card number, or an error wrapping
// hal.ErrBadFrame for one that was rejected.
func (w *Wedge) ReadBadge(ctx context.Context) (hal.BadgeEvent, error) {
	r, err := read(ctx, w.reads, w.done)
	if err != nil {
		return hal.BadgeEvent{}, err
	}
	return r.ev, r.err
}

// Halt ungrabs and closes the device.
func (w *Wedge) Halt() error {
	w.halt.Do(func() {
		close(w.done)
		w.err = w.loop.Halt()
	})
	return w.err
}

func (w *Wedge) chunk(b []byte) { w.dec.feed(b, w.event) }

// event is the pure part: it follows one event and queues what it ends.
func (w *Wedge) event(ev Event) {
	if ev.Type != evKey || ev.Value != valuePress {
		return
	}
	if len(w.digits) > 0 || w.why != "" {
		if ev.Time.Sub(w.last) > w.opts.Gap || ev.Time.Before(w.last) {
			w.reject("no Enter after the digits")
		}
	}
	w.last = ev.Time
	if d, ok := digit(ev.Code); ok {
		if len(w.digits) == w.opts.MaxDigits {
			w.why = fmt.Sprintf("more than %d digits", w.opts.MaxDigits)
		} else {
			w.digits = append(w.digits, d)
		}
		return
	}
	switch {
	case modifier(ev.Code):
	case ev.Code == keyEnter || ev.Code == keyKPEnter:
		switch {
		case w.why != "":
			w.reject(w.why)
		case len(w.digits) == 0:
			// A bare Enter is nothing a reader sends for a card.
		default:
			n := string(w.digits)
			w.queue(result{ev: hal.BadgeEvent{Format: hal.FormatKeyboard, Number: n, Raw: []byte(n), Bits: 8 * len(n), Time: ev.Time}})
			w.digits = w.digits[:0]
		}
	default:
		if w.why == "" {
			w.why = fmt.Sprintf("key code %d is not a digit", ev.Code)
		}
	}
}

func (w *Wedge) reject(why string) {
	w.bad.Add(1)
	w.queue(result{err: &WedgeError{Digits: len(w.digits), Reason: why}})
	w.digits, w.why = w.digits[:0], ""
}

func (w *Wedge) queue(r result) {
	select {
	case w.reads <- r:
	default:
	}
}
