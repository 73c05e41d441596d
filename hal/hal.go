// Package hal defines the clock's hardware as small interfaces: a Keypad, a
// Display, a BadgeReader and an Indicator. Drivers implement them on real
// buses (periph.io, serial, evdev); hal/sim implements them in memory.
//
// hal imports nothing of this module, so drivers, the agent and onboarding
// can all depend on it without cycles.
package hal

import (
	"context"
	"errors"
)

// Device is what every peripheral has: a name for logs and a way to stop it.
// It mirrors periph.io's conn.Resource.
type Device interface {
	// String names the device for logs and the console, e.g. "hd44780(20x4)@i2c1:0x27".
	String() string
	// Halt stops the device and releases what it holds. Calls after the first
	// are no-ops. A blocked Read* returns ErrHalted.
	Halt() error
}

// ErrHalted is returned by a blocking read on a device that was halted.
var ErrHalted = errors.New("hal: device halted")

// ErrBadFrame is wrapped by the error a BadgeReader returns for a frame it
// rejected (bad parity or checksum, wrong length, stray keys). The reader
// stays usable: the caller logs the error and reads on. Such a frame is
// never turned into a badge.
var ErrBadFrame = errors.New("bad badge frame")

// Keypad delivers key presses.
type Keypad interface {
	Device
	// ReadKey blocks until a key is pressed, ctx is done (ctx.Err()), or the
	// device is halted (ErrHalted).
	ReadKey(ctx context.Context) (KeyEvent, error)
}

// Display shows whole screens of text.
type Display interface {
	Device
	// Size is the text geometry in character cells.
	Size() (cols, rows int)
	// Show replaces the whole screen. Missing lines are blank; lines longer
	// than cols are cut, extra lines are ignored.
	Show(lines []string) error
	// Clear blanks the screen.
	Clear() error
}

// Backlight is the optional ability of a Display to switch its backlight.
type Backlight interface {
	SetBacklight(on bool) error
}

// BadgeReader delivers badge reads.
type BadgeReader interface {
	Device
	// ReadBadge blocks until a valid badge is read, ctx is done, or the
	// device is halted. Bad frames are never returned as badges; a reader
	// may report one as an error wrapping ErrBadFrame.
	ReadBadge(ctx context.Context) (BadgeEvent, error)
}

// FrameCounter is the optional ability of a BadgeReader to report the frames
// it rejected (bad parity, bad checksum, wrong length).
type FrameCounter interface {
	BadFrames() uint64
}

// Indicator drives the LEDs and the buzzer.
type Indicator interface {
	Device
	// SetLED switches one LED.
	SetLED(led LED, on bool) error
	// Beep sounds a pattern and returns when it has finished or ctx is done.
	Beep(ctx context.Context, p Pattern) error
}
