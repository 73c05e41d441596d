package em4100

import (
	"encoding/hex"
	"fmt"

	"timeclock/hal"
)

// Frame bytes of the ASCII protocol (RDM6300 and kin).
const (
	stx = 0x02
	etx = 0x03
	// maxPayload bounds a frame: 12 characters and a CR LF some modules add.
	maxPayload = 16
)

// ID is a card's 40 bits: the version (customer) byte, then the 32-bit
// serial number.
type ID [5]byte

// FrameError is a frame the reader rejected. It wraps hal.ErrBadFrame.
type FrameError struct{ Reason string }

func (e *FrameError) Error() string { return "em4100: bad frame: " + e.Reason }

// Unwrap makes errors.Is(err, hal.ErrBadFrame) hold.
func (e *FrameError) Unwrap() error { return hal.ErrBadFrame }

// Encode builds a frame: STX, 10 hex digits, 2 hex digits of checksum
// (the XOR of the 5 bytes), ETX. For tests and simulators.
func Encode(id ID) []byte {
	sum := id[0] ^ id[1] ^ id[2] ^ id[3] ^ id[4]
	f := []byte{stx}
	f = fmt.Appendf(f, "%X%02X", id[:], sum)
	return append(f, etx)
}

// decode checks a frame's payload (what lies between STX and ETX).
func decode(p []byte) (ID, error) {
	for len(p) > 0 && (p[len(p)-1] == '\r' || p[len(p)-1] == '\n') {
		p = p[:len(p)-1]
	}
	if len(p) != 12 {
		return ID{}, &FrameError{fmt.Sprintf("%d characters between STX and ETX, want 10 digits and a 2-digit checksum", len(p))}
	}
	var b [6]byte
	if _, err := hex.Decode(b[:], p); err != nil {
		return ID{}, &FrameError{fmt.Sprintf("not hex: %q", p)}
	}
	var id ID
	copy(id[:], b[:5])
	if sum := id[0] ^ id[1] ^ id[2] ^ id[3] ^ id[4]; sum != b[5] {
		return ID{}, &FrameError{fmt.Sprintf("checksum %02X, the data gives %02X", b[5], sum)}
	}
	return id, nil
}

// parser finds frames in the byte stream. Bytes outside frames (line
// noise while no card is near) are skipped.
type parser struct {
	in  bool
	buf []byte
}

// feed parses b and calls emit for every frame ended in it.
func (p *parser) feed(b []byte, emit func(ID, error)) {
	for _, c := range b {
		switch {
		case c == stx:
			if p.in {
				emit(ID{}, &FrameError{"frame cut short by the next STX"})
			}
			p.in, p.buf = true, p.buf[:0]
		case !p.in:
		case c == etx:
			p.in = false
			emit(decode(p.buf))
		case len(p.buf) == maxPayload:
			p.in = false
			emit(ID{}, &FrameError{fmt.Sprintf("no ETX within %d characters", maxPayload)})
		default:
			p.buf = append(p.buf, c)
		}
	}
}

// event is the badge a card reads as: Number is the number printed on
// EM4100 cards, the 32-bit serial as 10 decimal digits, which rosters
// already hold and so stays as it is. The version byte is kept in Raw, and
// the event's Key is the whole 40-bit ID.
func event(id ID) hal.BadgeEvent {
	n := uint32(id[1])<<24 | uint32(id[2])<<16 | uint32(id[3])<<8 | uint32(id[4])
	return hal.BadgeEvent{Raw: id[:], Bits: 40, Format: hal.FormatEM4100, Number: fmt.Sprintf("%010d", n)}
}
