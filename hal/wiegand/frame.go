package wiegand

import (
	"fmt"
	"strconv"

	"timeclock/hal"
)

// layout is where a format keeps its fields, as bit indexes of the frame
// (first bit sent is 0). Ranges are half-open.
type layout struct {
	format           hal.BadgeFormat
	bits             int
	fcFrom, fcTo     int // facility code
	cnFrom, cnTo     int // card number
	evenFrom, evenTo int // covered by the even parity bit 0
	oddFrom, oddTo   int // covered by the odd parity bit bits-1
}

// layouts are the formats this driver decodes: H10301 (26), the common
// 34-bit format, and H10304 (37).
var layouts = []layout{
	{hal.FormatWiegand26, 26, 1, 9, 9, 25, 1, 13, 13, 25},
	{hal.FormatWiegand34, 34, 1, 17, 17, 33, 1, 17, 17, 33},
	{hal.FormatWiegand37, 37, 1, 17, 17, 36, 1, 19, 18, 36},
}

func layoutFor(bits int) (layout, bool) {
	for _, l := range layouts {
		if l.bits == bits {
			return l, true
		}
	}
	return layout{}, false
}

// FrameError is a frame the reader rejected. It wraps hal.ErrBadFrame.
type FrameError struct {
	Bits   int    // bits received
	Reason string // what is wrong with them
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("wiegand: bad frame of %d bits: %s", e.Bits, e.Reason)
}

// Unwrap makes errors.Is(err, hal.ErrBadFrame) hold.
func (e *FrameError) Unwrap() error { return hal.ErrBadFrame }

// field reads bits [from, to) as a number, most significant first.
func field(bits []uint8, from, to int) uint64 {
	var v uint64
	for _, b := range bits[from:to] {
		v = v<<1 | uint64(b&1)
	}
	return v
}

func ones(bits []uint8, from, to int) int {
	n := 0
	for _, b := range bits[from:to] {
		n += int(b & 1)
	}
	return n
}

// Decode checks a frame's length and parity and reads its facility code
// and card number. bits holds one bit per byte (0 or 1), first bit first.
func Decode(bits []uint8) (hal.BadgeEvent, error) {
	l, ok := layoutFor(len(bits))
	if !ok {
		return hal.BadgeEvent{}, &FrameError{len(bits), "length is not 26, 34 or 37 bits"}
	}
	for i, b := range bits {
		if b > 1 {
			return hal.BadgeEvent{}, &FrameError{len(bits), fmt.Sprintf("bit %d is %d", i, b)}
		}
	}
	if (ones(bits, l.evenFrom, l.evenTo)+int(bits[0]))%2 != 0 {
		return hal.BadgeEvent{}, &FrameError{len(bits), "even parity (first bit) does not match"}
	}
	if (ones(bits, l.oddFrom, l.oddTo)+int(bits[l.bits-1]))%2 != 1 {
		return hal.BadgeEvent{}, &FrameError{len(bits), "odd parity (last bit) does not match"}
	}
	raw := make([]byte, (len(bits)+7)/8)
	for i, b := range bits {
		raw[i/8] |= b << (7 - i%8)
	}
	return hal.BadgeEvent{
		Raw:      raw,
		Bits:     len(bits),
		Format:   l.format,
		Facility: uint32(field(bits, l.fcFrom, l.fcTo)),
		Number:   strconv.FormatUint(field(bits, l.cnFrom, l.cnTo), 10),
	}, nil
}

// Encode builds a valid frame: for tests and for anyone simulating a
// reader. bits is 26, 34 or 37.
func Encode(bits int, facility uint32, card uint64) ([]uint8, error) {
	l, ok := layoutFor(bits)
	if !ok {
		return nil, fmt.Errorf("wiegand: no %d-bit format", bits)
	}
	if facility >= 1<<(l.fcTo-l.fcFrom) || card >= 1<<(l.cnTo-l.cnFrom) {
		return nil, fmt.Errorf("wiegand: facility %d or card %d too large for %d bits", facility, card, bits)
	}
	f := make([]uint8, bits)
	put := func(v uint64, from, to int) {
		for i := to - 1; i >= from; i-- {
			f[i] = uint8(v & 1)
			v >>= 1
		}
	}
	put(uint64(facility), l.fcFrom, l.fcTo)
	put(card, l.cnFrom, l.cnTo)
	f[0] = uint8(ones(f, l.evenFrom, l.evenTo) % 2)
	f[bits-1] = uint8(1 - ones(f, l.oddFrom, l.oddTo)%2)
	return f, nil
}
