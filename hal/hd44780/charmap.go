package hd44780

// The HD44780's character ROM (code A00, the common one) has ASCII from
// 0x20 to 0x7D except the backslash, which is a yen sign, and a few
// European letters and signs above 0x7F.
var extra = map[rune]byte{
	'¥': 0x5C, '→': 0x7E, '←': 0x7F, '·': 0xA5, '°': 0xDF,
	'ä': 0xE1, 'ß': 0xE2, 'µ': 0xE4, 'ñ': 0xEE, 'ö': 0xEF, 'ü': 0xF5,
}

// encode returns the character code that shows r, or '?' when the ROM has
// no such character (control characters included).
func encode(r rune) byte {
	if r >= 0x20 && r <= 0x7D && r != '\\' {
		return byte(r)
	}
	if b, ok := extra[r]; ok {
		return b
	}
	return '?'
}
