package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"timeclock/hal"
)

// ErrQuit is returned by RunTUI when the person pressed Ctrl-C.
var ErrQuit = errors.New("sim: quit from the terminal")

// IsTerminal reports whether f is a terminal the TUI can run on.
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// RunTUI draws the clock face on the terminal tty and maps its keyboard to
// the keypad until ctx is done (nil) or the person presses Ctrl-C (ErrQuit).
// The terminal is restored on every return.
//
// Keys: 0-9 * # Enter as on the keypad, Backspace = Clear, F1-F4, Up/Down,
// b = swipe a badge (type its number, or facility code:number, Enter; Esc
// cancels), f = place a finger on the fingerprint sensor (type its name,
// Enter; Esc cancels), Ctrl-C = quit.
func (b *Board) RunTUI(ctx context.Context, tty *os.File) error {
	fd := int(tty.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return fmt.Errorf("sim: terminal raw mode: %w", err)
	}
	defer term.Restore(fd, old)
	// A non-blocking descriptor lets the runtime poller wake the reader on
	// cancellation. The flag is shared with the parent shell, so put it back.
	// The descriptor is duplicated so closing ours leaves the caller's open.
	dup, err := syscall.Dup(fd)
	if err != nil {
		return fmt.Errorf("sim: terminal: %w", err)
	}
	if err := syscall.SetNonblock(dup, true); err != nil {
		syscall.Close(dup)
		return fmt.Errorf("sim: terminal: %w", err)
	}
	defer syscall.SetNonblock(fd, false)
	in := os.NewFile(uintptr(dup), tty.Name())
	defer in.Close()

	io.WriteString(tty, "\x1b[?1049h\x1b[?25l") // alternate screen, hide cursor
	defer io.WriteString(tty, "\x1b[?25h\x1b[?1049l")

	t := &tui{b: b, out: tty}
	events := make(chan []termEvent)
	readErr := make(chan error, 1)
	readCtx, stopRead := context.WithCancel(ctx)
	go func() {
		readErr <- t.readLoop(readCtx, in, events)
	}()
	defer func() {
		stopRead()
		in.SetReadDeadline(time.Now())
		<-readErr
	}()

	changed, unwatch := b.Watch()
	defer unwatch()
	t.draw()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			readErr <- err // for the deferred wait
			return fmt.Errorf("sim: terminal: %w", err)
		case evs := <-events:
			for _, ev := range evs {
				if t.handle(ev) {
					return ErrQuit
				}
			}
			t.draw()
		case <-changed:
			t.draw()
		}
	}
}

func (t *tui) readLoop(ctx context.Context, in *os.File, events chan<- []termEvent) error {
	var d decoder
	buf := make([]byte, 256)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			select {
			case events <- d.feed(buf[:n]):
			case <-ctx.Done():
				return nil
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return err
		}
	}
}

type tui struct {
	b       *Board
	out     io.Writer
	swiping bool   // typing a badge number
	number  []byte // the badge typed so far: NUMBER or FACILITY:NUMBER
	placing bool   // typing a finger's name
	finger  []byte // the finger's name so far
	note    string // one line of feedback under the face
}

// fingerChar reports whether c may be in a finger's name (Board.Finger).
func fingerChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
}

// handle applies one event; it reports whether to quit.
func (t *tui) handle(ev termEvent) bool {
	if ev.kind == evQuit {
		return true
	}
	if t.placing {
		switch {
		case ev.kind == evKey && ev.key <= hal.Key9 && len(t.finger) < maxFingerName:
			t.finger = append(t.finger, '0'+byte(ev.key))
		case ev.kind == evChar && fingerChar(ev.char) && len(t.finger) < maxFingerName:
			t.finger = append(t.finger, ev.char)
		case ev.kind == evBackspace:
			if len(t.finger) > 0 {
				t.finger = t.finger[:len(t.finger)-1]
			}
		case ev.kind == evKey && ev.key == hal.KeyEnter:
			t.placing = false
			if err := t.b.Finger(string(t.finger)); err != nil {
				t.note = "finger not placed: " + err.Error()
			} else {
				t.note = "placed finger " + string(t.finger)
			}
		case ev.kind == evEscape:
			t.placing = false
			t.note = "finger cancelled"
		}
		return false
	}
	if t.swiping {
		switch {
		case ev.kind == evKey && ev.key <= hal.Key9:
			if len(t.number) < maxFacilityDigits+1+maxBadgeDigits {
				t.number = append(t.number, '0'+byte(ev.key))
			}
		case ev.kind == evChar && ev.char == ':': // a facility code before it
			if len(t.number) > 0 && !bytes.ContainsRune(t.number, ':') {
				t.number = append(t.number, ':')
			}
		case ev.kind == evBackspace:
			if len(t.number) > 0 {
				t.number = t.number[:len(t.number)-1]
			}
		case ev.kind == evKey && ev.key == hal.KeyEnter:
			t.swiping = false
			if err := t.b.Swipe(string(t.number)); err != nil {
				t.note = "badge not swiped: " + err.Error()
			} else {
				t.note = "swiped badge " + string(t.number)
			}
		case ev.kind == evEscape:
			t.swiping = false
			t.note = "badge cancelled"
		}
		return false
	}
	var err error
	switch ev.kind {
	case evKey:
		err = t.b.Press(ev.key)
	case evBackspace:
		err = t.b.Press(hal.KeyClear)
	case evChar:
		switch ev.char {
		case 'b', 'B':
			t.swiping, t.number, t.note = true, t.number[:0], ""
		case 'f', 'F':
			t.placing, t.finger, t.note = true, t.finger[:0], ""
		case 'c', 'C':
			err = t.b.Press(hal.KeyClear)
		}
	}
	if err != nil {
		t.note = err.Error()
	}
	return false
}

func (t *tui) draw() {
	prompt := ""
	switch {
	case t.swiping:
		prompt = "Badge [facility:]number: " + string(t.number) + "_   (Enter swipes, Esc cancels)"
	case t.placing:
		prompt = "Finger (its name): " + string(t.finger) + "_   (Enter places it, Esc cancels)"
	}
	io.WriteString(t.out, render(t.b.Screen(), t.b.opts.Cols, t.b.Lights(), prompt, t.note))
}

// render draws the whole clock face as terminal output. It is pure so the
// face can be tested without a terminal.
func render(lines []string, cols int, l Lights, prompt, note string) string {
	var sb strings.Builder
	sb.WriteString("\x1b[H")
	line := func(s string) {
		sb.WriteString(s)
		sb.WriteString("\x1b[K\r\n")
	}
	line("  timeclock simulator")
	line("  ┌" + strings.Repeat("─", cols+2) + "┐")
	for _, l := range lines {
		line("  │ " + l + strings.Repeat(" ", max(0, cols-len([]rune(l)))) + " │")
	}
	line("  └" + strings.Repeat("─", cols+2) + "┘")
	mark := func(on bool, color, name string) string {
		if on {
			return "\x1b[" + color + "m●\x1b[0m " + name
		}
		return "○ " + name
	}
	buzz := "buzzer: -"
	if l.Buzzer != "" {
		buzz = fmt.Sprintf("buzzer: %s (%d)", l.Buzzer, l.Beeps)
	}
	line("  " + mark(l.Green, "32", "green") + "   " + mark(l.Red, "31", "red") + "   " + buzz)
	line("")
	if prompt != "" {
		line("  " + prompt)
	} else {
		line("  keys: 0-9 * #  Enter  Backspace=Clear  F1-F4  Up/Down")
	}
	line("        b = swipe a badge   f = place a finger   Ctrl-C = quit")
	line("  " + note)
	sb.WriteString("\x1b[J")
	return sb.String()
}
