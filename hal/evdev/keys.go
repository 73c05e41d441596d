package evdev

import "timeclock/hal"

// Key codes of linux/input-event-codes.h that keypads and readers send.
const (
	keyEsc        = 1
	key1          = 2 // KEY_1..KEY_9 are 2..10
	key0          = 11
	keyBackspace  = 14
	keyEnter      = 28
	keyLeftCtrl   = 29
	keyLeftShift  = 42
	keyRightShift = 54
	keyKPAsterisk = 55
	keyLeftAlt    = 56
	keyCapsLock   = 58
	keyF1         = 59 // KEY_F1..KEY_F4 are 59..62
	keyNumLock    = 69
	keyKP7        = 71
	keyKP8        = 72
	keyKP9        = 73
	keyKP4        = 75
	keyKP5        = 76
	keyKP6        = 77
	keyKP1        = 79
	keyKP2        = 80
	keyKP3        = 81
	keyKP0        = 82
	keyKPEnter    = 96
	keyRightCtrl  = 97
	keyRightAlt   = 100
	keyUp         = 103
	keyDown       = 108
	keyDelete     = 111
	keyOK         = 0x160
	keyClear      = 0x163
	keyNumeric0   = 0x200 // KEY_NUMERIC_0..9 are 0x200..0x209
	keyNumStar    = 0x20a
	keyNumPound   = 0x20b
)

// digit returns the digit a key code types, on the main row, the keypad
// block or a phone-style keypad.
func digit(code uint16) (byte, bool) {
	switch {
	case code >= key1 && code <= key1+8:
		return byte('1' + code - key1), true
	case code == key0, code == keyKP0:
		return '0', true
	case code >= keyNumeric0 && code <= keyNumeric0+9:
		return byte('0' + code - keyNumeric0), true
	}
	for i, c := range [...]uint16{keyKP1, keyKP2, keyKP3, keyKP4, keyKP5, keyKP6, keyKP7, keyKP8, keyKP9} {
		if code == c {
			return byte('1' + i), true
		}
	}
	return 0, false
}

// DefaultKeyMap maps the codes a kernel keypad driver is usually given in
// its device tree keymap to the clock's keys.
func DefaultKeyMap() map[uint16]hal.Key {
	m := map[uint16]hal.Key{
		keyKPAsterisk: hal.KeyStar, keyNumStar: hal.KeyStar,
		keyNumPound: hal.KeyHash,
		keyEnter:    hal.KeyEnter, keyKPEnter: hal.KeyEnter, keyOK: hal.KeyEnter,
		keyBackspace: hal.KeyClear, keyDelete: hal.KeyClear, keyEsc: hal.KeyClear, keyClear: hal.KeyClear,
		keyF1: hal.KeyF1, keyF1 + 1: hal.KeyF2, keyF1 + 2: hal.KeyF3, keyF1 + 3: hal.KeyF4,
		keyUp: hal.KeyUp, keyDown: hal.KeyDown,
	}
	for code := uint16(0); code < 0x300; code++ {
		if d, ok := digit(code); ok {
			m[code] = hal.Key0 + hal.Key(d-'0')
		}
	}
	return m
}

// modifier reports keys a wedge reader may press around the digits.
func modifier(code uint16) bool {
	switch code {
	case keyLeftShift, keyRightShift, keyLeftCtrl, keyRightCtrl, keyLeftAlt, keyRightAlt, keyCapsLock, keyNumLock:
		return true
	}
	return false
}
