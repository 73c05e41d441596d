// Package evdev reads Linux input devices (/dev/input/event*): keypads the
// kernel drives (gpio-matrix-keypad and friends) as a hal.Keypad, and USB
// proximity readers that type the card number and Enter like a keyboard
// ("keyboard wedge") as a hal.BadgeReader. Open grabs the device, so the
// keystrokes reach only this program and never a console login.
package evdev

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Event types and key values of linux/input-event-codes.h.
const (
	evSyn = 0x00
	evKey = 0x01

	valueRelease = 0
	valuePress   = 1
	valueRepeat  = 2
)

// EventSize is the size of the kernel's struct input_event for this
// program: a struct timeval of two C longs (4 bytes each on 32-bit ARM, 8
// on arm64 and amd64), then type and code (uint16) and value (int32). A
// 32-bit program on a 64-bit kernel gets the 32-bit layout too.
const EventSize = 2*bits.UintSize/8 + 8

// Event is one input event.
type Event struct {
	Time  time.Time
	Type  uint16
	Code  uint16
	Value int32
}

// ParseEvent decodes one input_event of size bytes (16 or 24), in this
// machine's byte order.
func ParseEvent(b []byte, size int) (Event, error) {
	if size != 16 && size != 24 {
		return Event{}, fmt.Errorf("evdev: event size %d (want 16 or 24)", size)
	}
	if len(b) < size {
		return Event{}, fmt.Errorf("evdev: %d bytes for a %d-byte event", len(b), size)
	}
	ne := binary.NativeEndian
	var sec, usec int64
	if size == 24 {
		sec, usec = int64(ne.Uint64(b)), int64(ne.Uint64(b[8:]))
	} else {
		// 32-bit time fields are unsigned since the kernel's y2038 work.
		sec, usec = int64(ne.Uint32(b)), int64(ne.Uint32(b[4:]))
	}
	t := b[size-8:]
	return Event{
		Time:  time.Unix(sec, usec*1000),
		Type:  ne.Uint16(t),
		Code:  ne.Uint16(t[2:]),
		Value: int32(ne.Uint32(t[4:])),
	}, nil
}

// AppendEvent encodes an event as the kernel would, for tests and
// simulators.
func AppendEvent(b []byte, ev Event, size int) []byte {
	ne := binary.NativeEndian
	sec, usec := ev.Time.Unix(), int64(ev.Time.Nanosecond()/1000)
	if size == 24 {
		b = ne.AppendUint64(b, uint64(sec))
		b = ne.AppendUint64(b, uint64(usec))
	} else {
		b = ne.AppendUint32(b, uint32(sec))
		b = ne.AppendUint32(b, uint32(usec))
	}
	b = ne.AppendUint16(b, ev.Type)
	b = ne.AppendUint16(b, ev.Code)
	return ne.AppendUint32(b, uint32(ev.Value))
}

// decoder cuts a byte stream into events: reads from a pipe or a test may
// split them anywhere.
type decoder struct {
	size    int
	pending []byte
}

// feed decodes whole events from p (and what was left over before).
func (d *decoder) feed(p []byte, f func(Event)) {
	d.pending = append(d.pending, p...)
	n := 0
	for ; len(d.pending)-n >= d.size; n += d.size {
		ev, _ := ParseEvent(d.pending[n:], d.size) // size checked by New
		f(ev)
	}
	d.pending = append(d.pending[:0], d.pending[n:]...)
}

// eviocgrab is _IOW('E', 0x90, int): grab (1) or release (0) the device
// for this file alone.
const eviocgrab = 0x40044590

// Open opens an input device and grabs it. The file is non-blocking under
// Go's poller, so closing it ends a pending read.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("evdev: %w", err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("evdev: %s: %w", path, err)
	}
	var gerr error
	if err := rc.Control(func(fd uintptr) { gerr = unix.IoctlSetInt(int(fd), eviocgrab, 1) }); err != nil {
		gerr = err
	}
	if gerr != nil {
		f.Close()
		hint := ""
		switch gerr {
		case unix.ENOTTY, unix.EINVAL, unix.ENOSYS: // ENOSYS: under qemu-user
			hint = " (not an input device)"
		case unix.EBUSY:
			hint = " (another program has grabbed it)"
		}
		return nil, fmt.Errorf("evdev: %s: grab: %w%s", path, gerr, hint)
	}
	return f, nil
}
