package hal

import (
	"fmt"
	"strings"
	"time"
)

// Key identifies one key of the clock's keypad.
type Key uint8

// The keys every model's keypad maps onto.
const (
	Key0 Key = iota
	Key1
	Key2
	Key3
	Key4
	Key5
	Key6
	Key7
	Key8
	Key9
	KeyStar
	KeyHash
	KeyEnter
	KeyClear
	KeyF1
	KeyF2
	KeyF3
	KeyF4
	KeyUp
	KeyDown
	numKeys
)

var keyNames = [numKeys]string{
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
	"*", "#", "enter", "clear", "f1", "f2", "f3", "f4", "up", "down",
}

// String is the key's name as the sim control socket and the console spell it.
func (k Key) String() string {
	if k < numKeys {
		return keyNames[k]
	}
	return fmt.Sprintf("Key(%d)", uint8(k))
}

// Digit reports the key's digit, if it is one.
func (k Key) Digit() (byte, bool) {
	if k <= Key9 {
		return '0' + byte(k), true
	}
	return 0, false
}

// Keys lists every key in order.
func Keys() []Key {
	ks := make([]Key, numKeys)
	for i := range ks {
		ks[i] = Key(i)
	}
	return ks
}

// ParseKey reads a key name ("0".."9", "*", "#", "enter", "clear",
// "f1".."f4", "up", "down"), case-insensitively.
func ParseKey(s string) (Key, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	for i, n := range keyNames {
		if n == l {
			return Key(i), nil
		}
	}
	return 0, fmt.Errorf("unknown key %q (want 0-9, *, #, enter, clear, f1-f4, up, down)", s)
}

// KeyEvent is one key press.
type KeyEvent struct {
	Key  Key
	Time time.Time
}
