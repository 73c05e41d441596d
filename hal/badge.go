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
	// Number is the card number as decimal digits, as printed on the card:
	// for Wiegand the card number without the facility code, for EM4100
	// the 32-bit ID without the version byte, for Mifare the whole UID.
	// It alone does not tell badges apart; Key does.
	Number string
	Time   time.Time
}

// Key is the badge's canonical match key: everything that identifies the
// card, in one string. Two cards have the same key only when they are the
// same card to their format.
//
//   - Wiegand 26, 34, 37, and any badge with a facility code: the facility
//     code and the card number, "12:34567" (a Wiegand facility code 0
//     still reads "0:34567").
//   - EM4100: the whole 40-bit ID as 10 upper-case hex digits, version
//     (customer) byte first, "0A1B2C3D4E", as EM4100 readers print it:
//     Number drops the version byte, so two tags differing only in it
//     have one Number but two keys.
//   - Everything else (Mifare UIDs, keyboard wedges, the sim): Number,
//     which is already the whole ID.
//
// Keys are unique within a format. The clock's roster matches a read by
// its key in roster syntax (agent's badgeKey: an EM4100 key marked "em:",
// so it is never taken for a card number; see docs/hardware.md, "How
// badges match the roster").
func (e BadgeEvent) Key() string {
	switch {
	case e.Format == FormatWiegand26 || e.Format == FormatWiegand34 || e.Format == FormatWiegand37 || e.Facility != 0:
		return fmt.Sprintf("%d:%s", e.Facility, e.Number)
	case e.Format == FormatEM4100 && len(e.Raw) == 5:
		return fmt.Sprintf("%X", e.Raw)
	}
	return e.Number
}

func (e BadgeEvent) String() string {
	if e.Facility != 0 {
		return fmt.Sprintf("%s %d:%s", e.Format, e.Facility, e.Number)
	}
	return fmt.Sprintf("%s %s", e.Format, e.Number)
}
