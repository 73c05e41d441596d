// Package em4100 reads 125 kHz EM4100 cards from serial reader modules
// (RDM6300 and the like) that send each card as an ASCII frame: STX, ten
// hex digits, a two-digit checksum, ETX. Frames are checked; a card held
// on the reader, which repeats its frame, is one read; and a USB adapter
// pulled out and plugged back in is opened again.
//
// Badge numbers are the 32-bit serial as 10 decimal digits with leading
// zeros, as printed on the cards ("0012345678").
package em4100

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"timeclock/hal"
	"timeclock/hal/internal/badgeq"
	"timeclock/hal/internal/portloop"
)

// Opener opens the port, again after it vanished.
type Opener = portloop.Opener

// Opts configures a reader.
type Opts struct {
	// Repeat is how long a card must be gone before it reads again.
	Repeat time.Duration
	// Backoff and MaxBackoff pace reopening a vanished port.
	Backoff, MaxBackoff time.Duration
	// Queue is how many reads may wait unread; more are dropped.
	Queue int
	// Logger gets the port's state changes (unplugged, back).
	Logger *slog.Logger
}

// DefaultOpts: one read per card per second of absence; reopen after 100
// ms, backing off to 5 s.
var DefaultOpts = Opts{Repeat: time.Second, Backoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, Queue: 16}

// Dev is an EM4100 serial reader.
type Dev struct {
	name  string
	opts  Opts
	reads badgeq.Queue
	done  chan struct{}
	halt  sync.Once
	loop  *portloop.Loop
	err   error
	bad   atomic.Uint64

	// Owned by the read loop's goroutine.
	parse  parser
	filter badgeq.RepeatFilter
}

var (
	_ hal.BadgeReader  = (*Dev)(nil)
	_ hal.FrameCounter = (*Dev)(nil)
)

// New opens the port with open and reads cards from it. name is for logs
// and String (the port's path).
func New(name string, open Opener, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Queue < 1 {
		o.Queue = DefaultOpts.Queue
	}
	port, err := open()
	if err != nil {
		return nil, err
	}
	d := &Dev{name: name, opts: o, reads: badgeq.New(o.Queue), done: make(chan struct{}), filter: badgeq.RepeatFilter{Window: o.Repeat}}
	d.loop = portloop.Start(port, open, d.chunk, portloop.Opts{Name: name, Backoff: o.Backoff, MaxBackoff: o.MaxBackoff, Logger: o.Logger})
	return d, nil
}

// SerialOpener opens a serial port at baud, 8N1, with no modem-line
// ioctls (they fail on ptys and some USB adapters).
func SerialOpener(port string, baud int) Opener {
	return func() (io.ReadCloser, error) {
		p, err := portloop.OpenSerial(port, baud)
		if err != nil {
			return nil, fmt.Errorf("em4100: %w", err)
		}
		return p, nil
	}
}

func (d *Dev) String() string { return "em4100(" + d.name + ")" }

// BadFrames counts the frames rejected so far.
func (d *Dev) BadFrames() uint64 { return d.bad.Load() }

// Connected reports whether the port is open (false while it is
// unplugged).
func (d *Dev) Connected() bool { return d.loop.Connected() }

func (d *Dev) chunk(b []byte) {
	d.parse.feed(b, func(id ID, err error) {
		switch {
		case err != nil:
			d.bad.Add(1)
			d.reads.Put(hal.BadgeEvent{}, err)
		case d.filter.Fresh(hex.EncodeToString(id[:]), time.Now()):
			ev := event(id)
			ev.Time = time.Now()
			d.reads.Put(ev, nil)
		}
		// Otherwise: the same card still on the reader.
	})
}

// ReadBadge returns the next card, or an error wrapping hal.ErrBadFrame for
// a frame that was rejected.
func (d *Dev) ReadBadge(ctx context.Context) (hal.BadgeEvent, error) {
	return d.reads.Next(ctx, d.done)
}

// Halt closes the port.
func (d *Dev) Halt() error {
	d.halt.Do(func() {
		close(d.done)
		d.err = d.loop.Halt()
	})
	return d.err
}
