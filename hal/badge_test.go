package hal

import "testing"

func TestBadgeKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   BadgeEvent
		key  string
	}{
		{"wiegand26", BadgeEvent{Format: FormatWiegand26, Facility: 12, Number: "34567"}, "12:34567"},
		{"wiegand34 facility 0", BadgeEvent{Format: FormatWiegand34, Number: "5"}, "0:5"},
		{"wiegand37", BadgeEvent{Format: FormatWiegand37, Facility: 60000, Number: "500000"}, "60000:500000"},
		{"em4100", BadgeEvent{Format: FormatEM4100, Raw: []byte{0x0A, 0x1B, 0x2C, 0x3D, 0x4E}, Number: "0456998222"}, "0A1B2C3D4E"},
		{"em4100 other version byte", BadgeEvent{Format: FormatEM4100, Raw: []byte{0x0B, 0x1B, 0x2C, 0x3D, 0x4E}, Number: "0456998222"}, "0B1B2C3D4E"},
		{"mifare", BadgeEvent{Format: FormatMifare, Raw: []byte{0x04, 0xA2, 0xB3, 0xC4}, Number: "77771716"}, "77771716"},
		{"keyboard", BadgeEvent{Format: FormatKeyboard, Number: "0042"}, "0042"},
		{"sim", BadgeEvent{Format: FormatSim, Number: "34567"}, "34567"},
		{"sim with facility", BadgeEvent{Format: FormatSim, Facility: 12, Number: "34567"}, "12:34567"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.ev.Key(); got != tc.key {
				t.Fatalf("Key() = %q, want %q", got, tc.key)
			}
		})
	}
}
