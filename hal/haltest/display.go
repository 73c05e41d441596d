package haltest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"timeclock/hal"
)

// DisplayHarness is one display under test and the means to see it.
type DisplayHarness struct {
	Dev hal.Display
	// Screen returns what a person sees, one string per row.
	Screen func(t testing.TB) []string
	// Lit reports whether the backlight is on. It is needed when Dev
	// implements hal.Backlight.
	Lit func(t testing.TB) bool
}

// Display checks the rules every hal.Display keeps. open makes a fresh
// device for each rule; the suite halts it. The texts are printable ASCII,
// which every display shows as is.
func Display(t *testing.T, open func(t *testing.T) DisplayHarness) {
	start := func(t *testing.T) (DisplayHarness, int, int) {
		t.Helper()
		h := open(t)
		t.Cleanup(func() { h.Dev.Halt() })
		cols, rows := h.Dev.Size()
		if cols < 1 || rows < 1 {
			t.Fatalf("Size() = %dx%d", cols, rows)
		}
		return h, cols, rows
	}
	show := func(t *testing.T, h DisplayHarness, lines ...string) {
		t.Helper()
		if err := h.Dev.Show(lines); err != nil {
			t.Fatalf("Show(%q): %v", lines, err)
		}
	}
	// expect checks the screen; want lists the rows from the top, missing
	// rows must be blank.
	expect := func(t *testing.T, h DisplayHarness, rows int, want ...string) {
		t.Helper()
		got := h.Screen(t)
		if len(got) != rows {
			t.Fatalf("screen has %d rows, Size says %d: %q", len(got), rows, got)
		}
		for i := range got {
			w := ""
			if i < len(want) {
				w = want[i]
			}
			if g := strings.TrimRight(got[i], " "); g != strings.TrimRight(w, " ") {
				t.Fatalf("row %d = %q, want %q\nscreen: %q", i, g, w, got)
			}
		}
	}

	t.Run("String", func(t *testing.T) {
		if h, _, _ := start(t); h.Dev.String() == "" {
			t.Fatal("String() is empty")
		}
	})
	t.Run("StartsBlank", func(t *testing.T) {
		h, _, rows := start(t)
		expect(t, h, rows)
	})
	t.Run("ShowLines", func(t *testing.T) {
		h, _, rows := start(t)
		want := []string{"Badge or PIN", "12:34"}[:min(2, rows)]
		show(t, h, want...)
		expect(t, h, rows, want...)
	})
	t.Run("LongLinesAreCut", func(t *testing.T) {
		h, cols, rows := start(t)
		long := strings.Repeat("0123456789", cols/10+2)
		show(t, h, long)
		expect(t, h, rows, long[:cols])
	})
	t.Run("ExtraLinesIgnored", func(t *testing.T) {
		h, _, rows := start(t)
		var lines []string
		for i := range rows + 2 {
			lines = append(lines, fmt.Sprintf("line %d", i))
		}
		show(t, h, lines...)
		expect(t, h, rows, lines[:rows]...)
	})
	t.Run("MissingLinesBlank", func(t *testing.T) {
		h, cols, rows := start(t)
		full := make([]string, rows)
		for i := range full {
			full[i] = strings.Repeat(string(rune('A'+i)), cols)
		}
		show(t, h, full...)
		expect(t, h, rows, full...)
		show(t, h, "x")
		expect(t, h, rows, "x")
	})
	t.Run("ShorterLineBlanksTheRest", func(t *testing.T) {
		h, cols, rows := start(t)
		show(t, h, strings.Repeat("#", cols))
		show(t, h, "ok")
		expect(t, h, rows, "ok")
	})
	t.Run("ControlCharsShowAsQuestionMarks", func(t *testing.T) {
		h, _, rows := start(t)
		show(t, h, "a\tb\x1bc")
		expect(t, h, rows, "a?b?c")
	})
	t.Run("Clear", func(t *testing.T) {
		h, cols, rows := start(t)
		show(t, h, strings.Repeat("x", cols), "y")
		if err := h.Dev.Clear(); err != nil {
			t.Fatalf("Clear: %v", err)
		}
		expect(t, h, rows)
		show(t, h, "after clear")
		expect(t, h, rows, "after clear")
	})
	t.Run("ManyScreens", func(t *testing.T) {
		// Random screens, many differing from the last in one cell: what
		// a display that writes only changed cells must get right.
		h, cols, rows := start(t)
		rng := rand.New(rand.NewPCG(1, 2))
		const alphabet = " ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:.-/#*"
		cur := make([]string, rows)
		for i := range 150 {
			if i%2 == 1 && rng.IntN(2) == 0 {
				r := rng.IntN(rows)
				b := []byte(cur[r] + strings.Repeat(" ", max(0, cols-len(cur[r]))))
				b[rng.IntN(cols)] = alphabet[rng.IntN(len(alphabet))]
				cur[r] = string(b)
			} else {
				n := rng.IntN(rows + 2)
				for r := range rows {
					cur[r] = ""
					if r < n {
						l := make([]byte, rng.IntN(cols+4))
						for j := range l {
							l[j] = alphabet[rng.IntN(len(alphabet))]
						}
						cur[r] = string(l)
					}
				}
			}
			show(t, h, cur...)
			want := make([]string, rows)
			for r := range rows {
				want[r] = cur[r][:min(len(cur[r]), cols)]
			}
			expect(t, h, rows, want...)
		}
	})
	t.Run("Backlight", func(t *testing.T) {
		h, _, rows := start(t)
		bl, ok := h.Dev.(hal.Backlight)
		if !ok {
			t.Skip("no hal.Backlight")
		}
		if h.Lit == nil {
			t.Fatal("the device has hal.Backlight but the harness cannot see it")
		}
		show(t, h, "lit")
		if !h.Lit(t) {
			t.Fatal("backlight off at start")
		}
		if err := bl.SetBacklight(false); err != nil || h.Lit(t) {
			t.Fatalf("SetBacklight(false) = %v, lit %v", err, h.Lit(t))
		}
		if err := bl.SetBacklight(true); err != nil || !h.Lit(t) {
			t.Fatalf("SetBacklight(true) = %v, lit %v", err, h.Lit(t))
		}
		expect(t, h, rows, "lit")
	})
	t.Run("HaltTwice", func(t *testing.T) {
		h, _, _ := start(t)
		if err := h.Dev.Halt(); err != nil {
			t.Fatalf("first Halt: %v", err)
		}
		if err := h.Dev.Halt(); err != nil {
			t.Fatalf("second Halt: %v", err)
		}
	})
}
