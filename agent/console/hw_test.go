package console

import (
	"context"
	"strings"
	"testing"
	"time"

	"timeclock/hal"
	"timeclock/hal/sim"
	"timeclock/internal/await"
)

// hwRig is a console whose hardware checks borrow a simulated board's
// devices through a tap, while an agent-like loop reads the tapped keypad.
type hwRig struct {
	*rig
	board      *sim.Board
	disp       hal.Display
	ind        hal.Indicator
	agentKeys  chan hal.KeyEvent
	agentReads chan hal.BadgeEvent
}

func newHWRig(t *testing.T) *hwRig {
	b, err := sim.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tap := NewTap()
	h := &hwRig{board: b, agentKeys: make(chan hal.KeyEvent, 8), agentReads: make(chan hal.BadgeEvent, 8)}
	kp, rd := tap.Keypad(b.Keypad()), tap.BadgeReader(b.BadgeReader())
	h.disp, h.ind = tap.Display(b.Display()), tap.Indicator(b.Indicator())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		for {
			ev, err := kp.ReadKey(ctx)
			if err != nil {
				return
			}
			h.agentKeys <- ev
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		for {
			ev, err := rd.ReadBadge(ctx)
			if err != nil {
				return
			}
			h.agentReads <- ev
		}
	}()
	t.Cleanup(func() { cancel(); <-done; <-done; b.Halt() })
	h.rig = newRig(t, func(o *Options) { o.Bench = tap })
	h.disp.Show([]string{"Mon 23 Nov     08:59", "", "    Badge or PIN"})
	h.ind.SetLED(hal.LEDGreen, true)
	return h
}

func (h *hwRig) screen() string { return strings.Join(h.board.Screen(), "\n") }

func (h *hwRig) waitScreen(text string) {
	h.t.Helper()
	await.True(h.t, timeout, func() bool { return strings.Contains(h.screen(), text) }, "screen never showed %q (shows %q)", text, h.board.Screen())
}

func TestHWKeypad(t *testing.T) {
	h := newHWRig(t)
	p := h.port(1)
	h.login(p)
	h.typ(p, "hw keypad\r")
	h.expect(p, "Keypad check: press keys on the clock; Ctrl-C ends.")
	h.waitScreen("Keypad check")
	h.board.Press(hal.Key5)
	h.expect(p, "key 5\r\n")
	h.board.Press(hal.KeyEnter)
	h.expect(p, "key enter\r\n")
	h.waitScreen("Key: enter")
	h.typ(p, "\x03")
	h.expect(p, "^C\r\nKeypad check ended: 2 keys pressed.")
	h.expect(p, "timeclock> ")
	h.waitScreen("Badge or PIN")
	select {
	case ev := <-h.agentKeys:
		t.Fatalf("the punch flow saw %v during the check", ev.Key)
	default:
	}
	// Afterwards keys reach the punch flow again.
	h.board.Press(hal.Key7)
	select {
	case ev := <-h.agentKeys:
		if ev.Key != hal.Key7 {
			t.Fatalf("agent got %v", ev.Key)
		}
	case <-time.After(timeout):
		t.Fatal("keys never came back to the agent")
	}
}

func TestHWBadge(t *testing.T) {
	h := newHWRig(t)
	p := h.port(1)
	h.login(p)
	h.typ(p, "hw badge\r")
	h.expect(p, "Badge check: present badges")
	h.expect(p, "(this reader does not report rejected frames)")
	h.board.Swipe("10001")
	h.expect(p, "read format=sim bits=40 raw=3130303031 number=10001 parity=n/a (sim has no parity)")
	h.waitScreen("sim 10001")
	h.typ(p, "\x03")
	h.expect(p, "Badge check ended: 1 read.")
	h.waitScreen("Badge or PIN")
	if len(h.agentReads) != 0 {
		t.Fatal("the punch flow saw the badge read during the check")
	}
}

func TestHWDisplayAndLEDs(t *testing.T) {
	h := newHWRig(t)
	p := h.port(1)
	h.login(p)
	h.typ(p, "hw display\r")
	h.expect(p, "Display check on sim-display(20x4), 20x4.")
	h.expect(p, "[1/5] every cell filled. Enter: next, Ctrl-C: stop ")
	h.waitScreen("####################")
	h.typ(p, "\r")
	h.expect(p, "[2/5] row numbers and a column ruler")
	h.waitScreen("12345678901234567890\n22345678901234567890")
	h.typ(p, "\r")
	h.expect(p, "[3/5] the character set")
	h.typ(p, "\r")
	h.expect(p, "[4/5] blank screen")
	h.typ(p, "\r")
	h.expect(p, "[5/5] backlight off")
	await.True(t, timeout, func() bool { return !h.board.Lights().Backlight }, "backlight stayed on")
	h.typ(p, "\r")
	h.expect(p, "Display check done; the clock's screen is back.")
	h.waitScreen("Badge or PIN")
	if !h.board.Lights().Backlight {
		t.Error("backlight left off")
	}
	// The agent's screen changed during the check: the new one comes back.
	h.typ(p, "hw display\r")
	h.expect(p, "[1/5]")
	h.disp.Show([]string{"Welcome Ann"})
	h.typ(p, "\x03")
	h.expect(p, "^C\r\nDisplay check stopped") // the echo before the command's last words
	h.waitScreen("Welcome Ann")

	h.typ(p, "hw leds\r")
	h.expect(p, "[1/5] green LED on.")
	if l := h.board.Lights(); !l.Green || l.Red {
		t.Fatalf("lights %+v", l)
	}
	h.typ(p, "\r")
	h.expect(p, "[2/5] red LED on.")
	h.typ(p, "\r")
	h.expect(p, "[3/5] both LEDs on.")
	h.typ(p, "\r")
	h.expect(p, "[4/5] buzzer: the accepted beep.")
	h.typ(p, "\r")
	h.expect(p, "[5/5] buzzer: the refused beep.")
	if l := h.board.Lights(); l.Beeps != 2 || l.Buzzer != "error" {
		t.Fatalf("buzzer %+v", l)
	}
	h.typ(p, "\r")
	h.expect(p, "LED check done")
	if l := h.board.Lights(); !l.Green || l.Red {
		t.Fatalf("LEDs not restored: %+v", l)
	}
}

func TestWiegandParity(t *testing.T) {
	// H10301 facility 18, card 12345: bits built by hand, left-aligned.
	build := func(bits string) []byte {
		raw := make([]byte, (len(bits)+7)/8)
		for i, c := range bits {
			if c == '1' {
				raw[i/8] |= 0x80 >> (i % 8)
			}
		}
		return raw
	}
	payload := "00010010" + "0011000000111001" // 18, 12345
	even := strings.Count(payload[:12], "1") % 2
	odd := 1 - strings.Count(payload[12:], "1")%2
	good := string(rune('0'+even)) + payload + string(rune('0'+odd))
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] ^= 1
		return string(b)
	}
	for _, tc := range []struct {
		name string
		ev   hal.BadgeEvent
		want string
	}{
		{"good 26", hal.BadgeEvent{Format: hal.FormatWiegand26, Bits: 26, Raw: build(good)}, "ok"},
		{"bad first half", hal.BadgeEvent{Format: hal.FormatWiegand26, Bits: 26, Raw: build(flip(good, 3))}, "BAD (even parity, first half)"},
		{"bad second half", hal.BadgeEvent{Format: hal.FormatWiegand26, Bits: 26, Raw: build(flip(good, 20))}, "BAD (odd parity, second half)"},
		{"short", hal.BadgeEvent{Format: hal.FormatWiegand26, Bits: 24, Raw: build(good[:24])}, "BAD (24 bits for a 26-bit format)"},
		{"raw too short", hal.BadgeEvent{Format: hal.FormatWiegand34, Bits: 34, Raw: []byte{1}}, "BAD (34 bits for a 34-bit format)"},
		{"em4100", hal.BadgeEvent{Format: hal.FormatEM4100}, "n/a (em4100: row and column parity checked by the reader)"},
	} {
		if got := parity(tc.ev); got != tc.want {
			t.Errorf("%s: parity = %q, want %q", tc.name, got, tc.want)
		}
	}
	// 37-bit: both halves share bit 18.
	bits37 := strings.Repeat("0", 37)
	b := []byte(bits37)
	b[36] = '1' // odd parity over an all-zero second half
	if got := parity(hal.BadgeEvent{Format: hal.FormatWiegand37, Bits: 37, Raw: build(string(b))}); got != "ok" {
		t.Errorf("wiegand37 = %q", got)
	}
}

func TestHWWithoutBench(t *testing.T) {
	r := newRig(t, nil)
	p := r.port(1)
	r.login(p)
	if got := r.run(p, "hw leds"); !strings.Contains(got, "hw: the hardware tap is not in this build yet") {
		t.Fatalf("hw without a bench:\n%s", got)
	}
}
