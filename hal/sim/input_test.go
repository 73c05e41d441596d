package sim

import (
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"timeclock/hal"
)

func writeFile(path string) error { return os.WriteFile(path, []byte("x"), 0o600) }

func keys(evs []termEvent) string {
	var s []string
	for _, e := range evs {
		switch e.kind {
		case evKey:
			s = append(s, e.key.String())
		case evChar:
			s = append(s, "char:"+string(e.char))
		case evBackspace:
			s = append(s, "bs")
		case evEscape:
			s = append(s, "esc")
		case evQuit:
			s = append(s, "quit")
		}
	}
	return strings.Join(s, " ")
}

func TestDecoder(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string // separate reads
		want string
	}{
		{"digits", []string{"0123456789*#"}, "0 1 2 3 4 5 6 7 8 9 * #"},
		{"enter", []string{"\r\n"}, "enter enter"},
		{"backspace", []string{"\x7f\x08"}, "bs bs"},
		{"ctrl-c", []string{"\x03"}, "quit"},
		{"arrows", []string{"\x1b[A\x1b[B\x1bOA"}, "up down up"},
		{"xterm F keys", []string{"\x1bOP\x1bOQ\x1bOR\x1bOS"}, "f1 f2 f3 f4"},
		{"vt F keys", []string{"\x1b[11~\x1b[14~"}, "f1 f4"},
		{"linux console F keys", []string{"\x1b[[A\x1b[[D"}, "f1 f4"},
		{"split escape", []string{"\x1bO", "P5"}, "f1 5"},
		{"split csi", []string{"\x1b[1", "1~"}, "f1"},
		{"lone escape", []string{"\x1b"}, "esc"},
		{"unknown csi dropped", []string{"\x1b[15~7"}, "7"},
		{"mouse report dropped", []string{"\x1b[<0;3;4M1"}, "1"},
		{"alt key dropped", []string{"\x1bx2"}, "2"},
		{"letters", []string{"bq"}, "char:b char:q"},
		{"controls ignored", []string{"\x01\x02\t"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d decoder
			var all []termEvent
			for _, in := range tc.in {
				all = append(all, d.feed([]byte(in))...)
			}
			if got := keys(all); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzDecoder(f *testing.F) {
	for _, s := range []string{"123", "\x1b[A", "\x1bOP", "\x1b[11~", "\x1b", "\x1b[", "\x1b[<0;3;4M", "\x03"} {
		f.Add([]byte(s), 1)
	}
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		var d decoder
		if split < 0 || split > len(data) {
			split = len(data)
		}
		evs := d.feed(data[:split])
		evs = append(evs, d.feed(data[split:])...)
		for _, e := range evs {
			if e.kind == evKey && e.key >= hal.Key(len(hal.Keys())) {
				t.Fatalf("decoded an invalid key %v", e.key)
			}
		}
		if len(d.pending) > 32 {
			t.Fatalf("decoder holds %d bytes pending", len(d.pending))
		}
	})
}

func TestRenderFace(t *testing.T) {
	out := render([]string{"Mon 02 Jan      08:00", "Badge or PIN"}, 20, Lights{Green: true, Buzzer: "ok", Beeps: 1}, "", "")
	plain := regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]").ReplaceAllString(out, "")
	for _, want := range []string{"┌──────────────────────┐", "│ Badge or PIN         │", "● green", "○ red", "buzzer: ok (1)", "Ctrl-C = quit"} {
		if !strings.Contains(plain, want) {
			t.Errorf("face lacks %q:\n%s", want, plain)
		}
	}
	out = render([]string{"x"}, 16, Lights{}, "Badge [facility:]number: 42_", "")
	if !strings.Contains(out, "Badge [facility:]number: 42_") {
		t.Errorf("badge prompt missing:\n%s", out)
	}
}

// In the terminal UI, f then a name and Enter places that finger on the
// sensor; Esc cancels; a name the socket refuses is refused here too.
func TestTUIPlaceFinger(t *testing.T) {
	b := newBoard(t)
	var out strings.Builder
	tu := &tui{b: b, out: &out}
	var d decoder
	for _, ev := range d.feed([]byte("fgrace-2")) {
		tu.handle(ev)
	}
	tu.draw()
	if !strings.Contains(out.String(), "Finger (its name): grace-2_") {
		t.Errorf("finger prompt missing:\n%s", out.String())
	}
	for _, ev := range d.feed([]byte("\r")) {
		tu.handle(ev)
	}
	if !b.FingerSensor().Placed() || tu.note != "placed finger grace-2" {
		t.Fatalf("finger not placed (note %q)", tu.note)
	}
	b.FingerSensor().Lift()
	for _, ev := range d.feed([]byte("fx\x1b")) {
		tu.handle(ev)
	}
	if b.FingerSensor().Placed() || tu.placing {
		t.Fatalf("Esc did not cancel (note %q)", tu.note)
	}
	for _, ev := range d.feed([]byte("f\r")) {
		tu.handle(ev)
	}
	if b.FingerSensor().Placed() || !strings.HasPrefix(tu.note, "finger not placed") {
		t.Fatalf("an empty name: note %q", tu.note)
	}
}

// In the terminal UI, b then "12:345" and Enter swipes facility 12, card
// 345; a second colon is not typed.
func TestTUISwipeWithFacility(t *testing.T) {
	b := newBoard(t)
	tu := &tui{b: b, out: io.Discard}
	var d decoder
	for _, ev := range d.feed([]byte("b12::345\r")) {
		if tu.handle(ev) {
			t.Fatal("quit")
		}
	}
	ev, err := b.BadgeReader().ReadBadge(context.Background())
	if err != nil || ev.Facility != 12 || ev.Number != "345" || ev.Key() != "12:345" {
		t.Fatalf("read %+v, %v; want facility 12 card 345 (note %q)", ev, err, tu.note)
	}
	for _, ev := range d.feed([]byte("b678\r")) {
		tu.handle(ev)
	}
	if ev, err := b.BadgeReader().ReadBadge(context.Background()); err != nil || ev.Facility != 0 || ev.Number != "678" {
		t.Fatalf("read %+v, %v; want card 678 without facility", ev, err)
	}
}
