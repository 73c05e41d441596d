package sim

import (
	"bytes"

	"timeclock/hal"
)

// termEvent is one thing a person did at the terminal.
type termEvent struct {
	kind termKind
	key  hal.Key // kind == evKey
	char byte    // kind == evChar: a printable byte that is not a keypad key
}

type termKind uint8

const (
	evKey termKind = iota + 1
	evChar
	evBackspace
	evEscape
	evQuit
)

// escapes maps terminal escape sequences to keypad keys: arrows, and F1-F4
// as xterm, the Linux console and tmux send them.
var escapes = []struct {
	seq string
	key hal.Key
}{
	{"\x1b[A", hal.KeyUp}, {"\x1bOA", hal.KeyUp},
	{"\x1b[B", hal.KeyDown}, {"\x1bOB", hal.KeyDown},
	{"\x1bOP", hal.KeyF1}, {"\x1bOQ", hal.KeyF2}, {"\x1bOR", hal.KeyF3}, {"\x1bOS", hal.KeyF4},
	{"\x1b[11~", hal.KeyF1}, {"\x1b[12~", hal.KeyF2}, {"\x1b[13~", hal.KeyF3}, {"\x1b[14~", hal.KeyF4},
	{"\x1b[[A", hal.KeyF1}, {"\x1b[[B", hal.KeyF2}, {"\x1b[[C", hal.KeyF3}, {"\x1b[[D", hal.KeyF4},
}

// decoder turns terminal bytes into events. It keeps an incomplete escape
// sequence until the next read completes it.
type decoder struct {
	pending []byte
}

// feed decodes buf (and anything pending) into events. A read holding only
// ESC is the Escape key; other unknown sequences are dropped whole.
func (d *decoder) feed(buf []byte) []termEvent {
	data := append(d.pending, buf...)
	d.pending = nil
	var out []termEvent
	for len(data) > 0 {
		c := data[0]
		if c == 0x1b {
			if len(data) == 1 {
				out = append(out, termEvent{kind: evEscape})
				return out
			}
			n, ev, complete := matchEscape(data)
			if !complete {
				d.pending = append([]byte(nil), data...)
				return out
			}
			if ev.kind != 0 {
				out = append(out, ev)
			}
			data = data[n:]
			continue
		}
		data = data[1:]
		switch {
		case c >= '0' && c <= '9':
			out = append(out, termEvent{kind: evKey, key: hal.Key0 + hal.Key(c-'0')})
		case c == '*':
			out = append(out, termEvent{kind: evKey, key: hal.KeyStar})
		case c == '#':
			out = append(out, termEvent{kind: evKey, key: hal.KeyHash})
		case c == '\r' || c == '\n':
			out = append(out, termEvent{kind: evKey, key: hal.KeyEnter})
		case c == 0x7f || c == 0x08:
			out = append(out, termEvent{kind: evBackspace})
		case c == 0x03 || c == 0x04: // Ctrl-C, Ctrl-D
			out = append(out, termEvent{kind: evQuit})
		case c > ' ' && c < 0x7f:
			out = append(out, termEvent{kind: evChar, char: c})
		}
	}
	return out
}

// matchEscape reads the escape sequence at the start of data. It returns the
// bytes it spans, the event (kind 0 for an unknown sequence) and whether the
// sequence is complete.
func matchEscape(data []byte) (int, termEvent, bool) {
	for _, e := range escapes {
		s := []byte(e.seq)
		if bytes.HasPrefix(data, s) {
			return len(s), termEvent{kind: evKey, key: e.key}, true
		}
		if len(data) < len(s) && bytes.HasPrefix(s, data) {
			return 0, termEvent{}, false
		}
	}
	// Unknown: CSI runs to a final byte in 0x40-0x7e; SS3 is one byte more;
	// ESC + anything else is Alt+key, dropped.
	if data[1] == '[' {
		for i := 2; i < len(data); i++ {
			if data[i] >= 0x40 && data[i] <= 0x7e {
				return i + 1, termEvent{}, true
			}
		}
		if len(data) > 16 { // runaway sequence: drop it
			return len(data), termEvent{}, true
		}
		return 0, termEvent{}, false
	}
	if data[1] == 'O' {
		if len(data) < 3 {
			return 0, termEvent{}, false
		}
		return 3, termEvent{}, true
	}
	return 2, termEvent{}, true
}
