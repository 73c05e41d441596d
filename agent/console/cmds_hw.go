package console

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"timeclock/clock"
	"timeclock/hal"
)

// badFramePoll is how often "hw badge" looks at the rejected-frame counter.
const badFramePoll = 500 * time.Millisecond

func cmdHW(cl *call) error {
	if cl.c.bench == nil {
		return Missing("the hardware tap")
	}
	lent, release, err := cl.c.bench.Borrow()
	if errors.Is(err, errLent) {
		return errors.New("another hardware check is running")
	}
	if err != nil {
		return err
	}
	defer release() // the agent's screen and LEDs come back
	switch cl.args[0] {
	case "keypad":
		return hwKeypad(cl, lent)
	case "badge":
		return hwBadge(cl, lent)
	case "display":
		return hwDisplay(cl, lent)
	default:
		return hwLEDs(cl, lent)
	}
}

// show puts lines on the lent display, reporting a display error once.
func show(cl *call, l Lent, lines ...string) {
	if l.Display == nil {
		return
	}
	if err := l.Display.Show(lines); err != nil {
		cl.printf("display error: %v\n", err)
	}
}

func hwKeypad(cl *call, l Lent) error {
	cl.printf("Keypad check: press keys on the clock; Ctrl-C ends. The clock takes no punches meanwhile.\n")
	show(cl, l, "Keypad check", "Press keys")
	n := 0
	for {
		select {
		case ev := <-l.Keys:
			n++
			cl.printf("key %s\n", ev.Key)
			show(cl, l, "Keypad check", "Key: "+ev.Key.String(), fmt.Sprintf("%d pressed", n))
		case <-l.Badges: // not this check's
		case <-cl.ctx.Done():
			cl.printf("Keypad check ended: %d %s pressed.\n", n, plural(n, "key", "keys"))
			return nil
		}
	}
}

func hwBadge(cl *call, l Lent) error {
	cl.printf("Badge check: present badges to the reader; Ctrl-C ends. The clock takes no punches meanwhile.\n")
	show(cl, l, "Badge check", "Present a badge")
	bad0, counted := l.BadFrames()
	var poll clock.Timer
	var tick <-chan time.Time
	if counted {
		poll = cl.c.clk.NewTimer(badFramePoll)
		defer poll.Stop()
		tick = poll.C()
	} else {
		cl.printf("(this reader does not report rejected frames)\n")
	}
	reads, lastBad := 0, bad0
	for {
		select {
		case ev := <-l.Badges:
			reads++
			cl.printf("read %s\n", describeBadge(ev))
			show(cl, l, "Badge check", ev.String(), "parity "+parity(ev))
		case <-tick:
			if n, _ := l.BadFrames(); n != lastBad {
				cl.printf("rejected %d %s (bad parity, checksum or length); %d since the check began\n",
					n-lastBad, plural(int(n-lastBad), "frame", "frames"), n-bad0)
				lastBad = n
			}
			poll.Reset(badFramePoll)
		case <-l.Keys:
		case <-cl.ctx.Done():
			cl.printf("Badge check ended: %d %s", reads, plural(reads, "read", "reads"))
			if counted {
				cl.printf(", %d rejected %s", lastBad-bad0, plural(int(lastBad-bad0), "frame", "frames"))
			}
			cl.printf(".\n")
			return nil
		}
	}
}

// describeBadge is one read as the badge check prints it.
func describeBadge(ev hal.BadgeEvent) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "format=%s bits=%d raw=%s", ev.Format, ev.Bits, hex.EncodeToString(ev.Raw))
	if ev.Facility != 0 {
		fmt.Fprintf(&sb, " facility=%d", ev.Facility)
	}
	fmt.Fprintf(&sb, " number=%s parity=%s", ev.Number, parity(ev))
	return sb.String()
}

// wiegandParity says, per Wiegand format, which bits the leading even and
// the trailing odd parity bit cover (inclusive, the parity bit included).
var wiegandParity = map[hal.BadgeFormat]struct{ bits, evenTo, oddFrom int }{
	hal.FormatWiegand26: {26, 12, 13},
	hal.FormatWiegand34: {34, 16, 17},
	hal.FormatWiegand37: {37, 18, 18}, // H10304: both halves cover bit 18
}

// parity recomputes a Wiegand read's parity from its raw bits (first bit
// read in the top bit of Raw[0]). Other formats are checked by their
// drivers before a read is delivered.
func parity(ev hal.BadgeEvent) string {
	p, ok := wiegandParity[ev.Format]
	switch {
	case ev.Format == hal.FormatEM4100:
		return "n/a (em4100: row and column parity checked by the reader)"
	case ev.Format == hal.FormatMifare:
		return "n/a (mifare: CRC checked by the reader)"
	case !ok:
		return "n/a (" + ev.Format.String() + " has no parity)"
	case ev.Bits != p.bits || len(ev.Raw)*8 < ev.Bits:
		return fmt.Sprintf("BAD (%d bits for a %d-bit format)", ev.Bits, p.bits)
	}
	bit := func(i int) int { return int(ev.Raw[i/8]>>(7-i%8)) & 1 }
	even, odd := 0, 0
	for i := 0; i <= p.evenTo; i++ {
		even ^= bit(i)
	}
	for i := p.oddFrom; i < p.bits; i++ {
		odd ^= bit(i)
	}
	switch {
	case even == 0 && odd == 1:
		return "ok"
	case even != 0 && odd != 1:
		return "BAD (both halves)"
	case even != 0:
		return "BAD (even parity, first half)"
	default:
		return "BAD (odd parity, second half)"
	}
}

// step shows a hardware check step and waits for Enter; false when the
// technician stopped the check.
func step(cl *call, i, n int, what string) bool {
	_, err := cl.ask(fmt.Sprintf("[%d/%d] %s. Enter: next, Ctrl-C: stop ", i, n, what))
	return err == nil
}

func hwDisplay(cl *call, l Lent) error {
	if l.Display == nil {
		return errors.New("this clock has no display")
	}
	cols, rows := l.Display.Size()
	cl.printf("Display check on %s, %dx%d. The clock takes no punches meanwhile.\n", l.Display, cols, rows)
	type pattern struct {
		name  string
		lines []string
		light bool
	}
	pats := []pattern{
		{"every cell filled", fill(cols, rows, func(r, c int) byte { return '#' }), true},
		{"row numbers and a column ruler", fill(cols, rows, func(r, c int) byte {
			if c == 0 {
				return byte('1' + r%9)
			}
			return byte('0' + (c+1)%10)
		}), true},
		{"the character set", fill(cols, rows, func(r, c int) byte { return byte(0x21 + (r*cols+c)%94) }), true},
		{"blank screen", nil, true},
	}
	bl, hasLight := l.Display.(hal.Backlight)
	if hasLight {
		pats = append(pats, pattern{"backlight off", []string{"Backlight off"}, false})
	}
	stopped := false
	for i, p := range pats {
		show(cl, l, p.lines...)
		if hasLight {
			bl.SetBacklight(p.light)
		}
		if !step(cl, i+1, len(pats), p.name) {
			stopped = true
			break
		}
	}
	if hasLight {
		bl.SetBacklight(true)
	}
	if stopped {
		cl.printf("Display check stopped; the clock's screen is back.\n")
	} else {
		cl.printf("Display check done; the clock's screen is back.\n")
	}
	return nil
}

func fill(cols, rows int, at func(r, c int) byte) []string {
	lines := make([]string, rows)
	for r := range lines {
		b := make([]byte, cols)
		for c := range b {
			b[c] = at(r, c)
		}
		lines[r] = string(b)
	}
	return lines
}

func hwLEDs(cl *call, l Lent) error {
	ind := l.Indicator
	if ind == nil {
		return errors.New("this clock has no LEDs or buzzer")
	}
	cl.printf("LED and buzzer check on %s. The clock takes no punches meanwhile.\n", ind)
	steps := []struct {
		name       string
		green, red bool
		beep       hal.Pattern
	}{
		{"green LED on", true, false, 0},
		{"red LED on", false, true, 0},
		{"both LEDs on", true, true, 0},
		{"buzzer: the accepted beep", false, false, hal.PatternOK},
		{"buzzer: the refused beep", false, false, hal.PatternError},
	}
	for i, s := range steps {
		var errs []error
		errs = append(errs, ind.SetLED(hal.LEDGreen, s.green), ind.SetLED(hal.LEDRed, s.red))
		if s.beep != 0 {
			errs = append(errs, ind.Beep(cl.ctx, s.beep))
		}
		if err := errors.Join(errs...); err != nil && cl.ctx.Err() == nil {
			cl.printf("indicator error: %v\n", err)
		}
		if !step(cl, i+1, len(steps), s.name) {
			cl.printf("LED check stopped; the LEDs are back as the clock had them.\n")
			return nil
		}
	}
	cl.printf("LED check done; the LEDs are back as the clock had them.\n")
	return nil
}
