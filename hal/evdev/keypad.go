package evdev

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"timeclock/hal"
	"timeclock/hal/internal/portloop"
)

// Opener opens the device, again after it vanished; board passes one that
// calls Open on the device's path.
type Opener = portloop.Opener

// KeypadOpts configures a keypad.
type KeypadOpts struct {
	// Map maps key codes to the clock's keys; unmapped keys are ignored.
	Map map[uint16]hal.Key
	// EventSize is the input_event size; 0 means this program's.
	EventSize int
	// Queue is how many presses may wait unread; more are dropped.
	Queue int
	// Logger gets the device's state changes (unplugged, back).
	Logger *slog.Logger
}

// DefaultKeypadOpts uses DefaultKeyMap.
var DefaultKeypadOpts = KeypadOpts{Map: DefaultKeyMap(), EventSize: EventSize, Queue: 16}

// Keypad is a kernel input device used as the clock's keypad.
type Keypad struct {
	name string
	opts KeypadOpts
	dec  decoder
	keys chan hal.KeyEvent
	done chan struct{}
	halt sync.Once
	loop *portloop.Loop
	err  error
}

var _ hal.Keypad = (*Keypad)(nil)

// NewKeypad opens the device with open and reads key presses from it.
// name is for logs and String.
func NewKeypad(name string, open Opener, opts *KeypadOpts) (*Keypad, error) {
	o := DefaultKeypadOpts
	if opts != nil {
		o = *opts
	}
	if o.EventSize == 0 {
		o.EventSize = EventSize
	}
	if o.EventSize != 16 && o.EventSize != 24 {
		return nil, fmt.Errorf("evdev: event size %d (want 16 or 24)", o.EventSize)
	}
	if o.Map == nil {
		o.Map = DefaultKeyMap()
	}
	if o.Queue < 1 {
		o.Queue = 16
	}
	f, err := open()
	if err != nil {
		return nil, err
	}
	k := &Keypad{name: name, opts: o, dec: decoder{size: o.EventSize}, keys: make(chan hal.KeyEvent, o.Queue), done: make(chan struct{})}
	k.loop = portloop.Start(f, open, k.chunk, portloop.Opts{Name: name, Logger: o.Logger, ChunkSize: 64 * o.EventSize})
	return k, nil
}

func (k *Keypad) String() string { return "evdev-keypad(" + k.name + ")" }

// chunk runs on the read loop's goroutine.
func (k *Keypad) chunk(b []byte) {
	k.dec.feed(b, func(ev Event) {
		if ev.Type != evKey || ev.Value != valuePress {
			return // releases and autorepeat are not presses
		}
		key, ok := k.opts.Map[ev.Code]
		if !ok {
			return
		}
		select {
		case k.keys <- hal.KeyEvent{Key: key, Time: ev.Time}:
		default:
		}
	})
}

// ReadKey returns the next key pressed.
func (k *Keypad) ReadKey(ctx context.Context) (hal.KeyEvent, error) {
	return read(ctx, k.keys, k.done)
}

// Halt ungrabs and closes the device.
func (k *Keypad) Halt() error {
	k.halt.Do(func() {
		close(k.done)
		k.err = k.loop.Halt()
	})
	return k.err
}

// read is ReadKey and ReadBadge: halted wins over queued input.
func read[T any](ctx context.Context, c <-chan T, done <-chan struct{}) (T, error) {
	var zero T
	select {
	case <-done:
		return zero, hal.ErrHalted
	default:
	}
	select {
	case v := <-c:
		return v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-done:
		return zero, hal.ErrHalted
	}
}

// PathOpener opens and grabs the device at path each time.
func PathOpener(path string) Opener {
	return func() (io.ReadCloser, error) { return Open(path) }
}
