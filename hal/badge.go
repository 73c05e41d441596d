package hal

import (
	"fmt"
	"time"
)

// BadgeFormat says how a badge was read and decoded.
type BadgeFormat uint8

// Badge formats the drivers produce.
const (
	FormatUnknown   BadgeFormat = iota
	FormatWiegand26             // H10301: facility 8 bits, card 16 bits, 2 parity bits
	FormatWiegand34             // facility 16 bits, card 16 bits, 2 parity bits
	FormatWiegand37             // H10304: facility 16 bits, card 19 bits, 2 parity bits
	FormatEM4100                // 125 kHz, 40 bits: version byte and 32-bit ID
	FormatMifare                // 13.56 MHz ISO 14443A UID
	FormatKeyboard              // keyboard-wedge reader typing the number
	FormatSim                   // typed into the simulated board
)

var formatNames = [...]string{"unknown", "wiegand26", "wiegand34", "wiegand37", "em4100", "mifare", "keyboard", "sim"}

func (f BadgeFormat) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("BadgeFormat(%d)", uint8(f))
}

// BadgeEvent is one valid badge read.
type BadgeEvent struct {
	// Raw holds the bits as read, most significant first, packed into bytes;
	// Bits says how many of them are meaningful.
	Raw  []byte
	Bits int
	// Format is how the bits were decoded.
	Format BadgeFormat
	// Facility is the facility (site) code, 0 when the format has none.
	Facility uint32
	// Number is the decoded card number as decimal digits (for Wiegand, the
	// card number without the facility code). The roster matches on it.
	Number string
	Time   time.Time
}

func (e BadgeEvent) String() string {
	if e.Facility != 0 {
		return fmt.Sprintf("%s %d:%s", e.Format, e.Facility, e.Number)
	}
	return fmt.Sprintf("%s %s", e.Format, e.Number)
}
