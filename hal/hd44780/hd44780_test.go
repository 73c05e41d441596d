package hd44780

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"timeclock/hal/haltest"
	"timeclock/hal/hd44780/hd44780test"
)

var update = flag.Bool("update", false, "rewrite testdata recordings from the emulator")

func noSleep(time.Duration) {}

func open(t *testing.T, bus i2c.Bus, cols, rows int) *Dev {
	t.Helper()
	d, err := newDev(bus, 0x27, &Opts{Cols: cols, Rows: rows, Backlight: true}, noSleep)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSuite(t *testing.T) {
	for _, g := range [][2]int{{20, 4}, {16, 2}} {
		t.Run(fmt.Sprintf("%dx%d", g[0], g[1]), func(t *testing.T) {
			haltest.Display(t, func(t *testing.T) haltest.DisplayHarness {
				lcd := hd44780test.New(g[0], g[1], 0x27)
				t.Cleanup(func() {
					if err := lcd.Err(); err != nil {
						t.Error(err)
					}
				})
				return haltest.DisplayHarness{
					Dev:    open(t, lcd, g[0], g[1]),
					Screen: func(testing.TB) []string { return lcd.Screen() },
					Lit:    func(testing.TB) bool { return lcd.Backlight() },
				}
			})
		})
	}
}

var idle = []string{"Sun 22 Nov     09:41", "", "    Badge or PIN", "Not connected"}

// session is what the playback recording holds: start, the idle screen,
// the minute ticking over, the backlight off and on, clear, halt.
func session(t *testing.T, bus i2c.Bus, check func(want ...string)) {
	d := open(t, bus, 20, 4)
	step := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step(d.Show(idle), "Show idle")
	check(idle...)
	tick := append([]string{"Sun 22 Nov     09:42"}, idle[1:]...)
	step(d.Show(tick), "Show tick")
	check(tick...)
	step(d.SetBacklight(false), "backlight off")
	step(d.SetBacklight(true), "backlight on")
	step(d.Clear(), "Clear")
	check()
	step(d.Halt(), "Halt")
}

func TestPlayback(t *testing.T) {
	const path = "testdata/devkit-20x4.txt"
	if *update {
		lcd := hd44780test.New(20, 4, 0x27)
		rec := &i2ctest.Record{Bus: lcd}
		session(t, rec, func(want ...string) { expect(t, lcd, want...) })
		if err := lcd.Err(); err != nil {
			t.Fatal(err)
		}
		haltest.SaveI2C(t, path, "hd44780 20x4 at 0x27 on a PCF8574 backpack: init, idle screen,\nminute tick (one cell), backlight off and on, clear, halt.\nRecorded from hd44780test (go test -run Playback -update); reviewed.", rec.Ops)
	}
	pb := &i2ctest.Playback{Ops: haltest.LoadI2C(t, path), DontPanic: true}
	session(t, pb, func(...string) {})
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func expect(t *testing.T, lcd *hd44780test.LCD, want ...string) {
	t.Helper()
	got := lcd.Screen()
	for i, g := range got {
		w := ""
		if i < len(want) {
			w = want[i]
		}
		if strings.TrimRight(g, " ") != w {
			t.Fatalf("screen %q, want %q", got, want)
		}
	}
}

func TestOnlyChangedCellsGoOnTheBus(t *testing.T) {
	lcd := hd44780test.New(20, 4, 0x27)
	d := open(t, lcd, 20, 4)
	d.Show(idle)
	_, before := lcd.Bytes()
	tick := append([]string{"Sun 22 Nov     09:42"}, idle[1:]...)
	if err := d.Show(tick); err != nil {
		t.Fatal(err)
	}
	_, after := lcd.Bytes()
	// Address byte, cursor move (4, +1 for RS), one character (4, +1 for RS).
	if n := after - before; n > 11 {
		t.Fatalf("one changed cell cost %d bytes on the bus", n)
	}
	if err := d.Show(tick); err != nil {
		t.Fatal(err)
	}
	if _, again := lcd.Bytes(); again != after {
		t.Fatalf("an unchanged screen cost %d bytes", again-after)
	}
	expect(t, lcd, tick...)
}

// flaky fails the next write.
type flaky struct {
	i2c.Bus
	fail bool
}

func (f *flaky) Tx(addr uint16, w, r []byte) error {
	if f.fail {
		f.fail = false
		// Half the bytes arrive, as when a cable glitches mid-transfer.
		f.Bus.Tx(addr, w[:len(w)/2], r)
		return errors.New("i2c: remote I/O error")
	}
	return f.Bus.Tx(addr, w, r)
}

func TestFailedWriteRewritesEverything(t *testing.T) {
	lcd := hd44780test.New(20, 4, 0x27)
	bus := &flaky{Bus: lcd}
	d := open(t, bus, 20, 4)
	d.Show(idle)
	bus.fail = true
	other := []string{"Welcome Ann", "IN 09:42", "", "Have a good day"}
	if err := d.Show(other); err == nil {
		t.Fatal("Show after a bus error returned nil")
	}
	if err := d.Show(other); err != nil {
		t.Fatal(err)
	}
	expect(t, lcd, other...)
}

func TestCharacterROM(t *testing.T) {
	lcd := hd44780test.New(16, 2, 0x27)
	d := open(t, lcd, 16, 2)
	d.Show([]string{"21°C Grüße", `a\b`})
	expect(t, lcd, "21°C Grüße", "a?b")
}

func TestNoDeviceAtAddress(t *testing.T) {
	lcd := hd44780test.New(20, 4, 0x3F)
	_, err := newDev(lcd, 0x27, nil, noSleep)
	if err == nil || !strings.Contains(err.Error(), "0x27") {
		t.Fatalf("New at an empty address: %v", err)
	}
}

func TestHaltBlanksAndDarkens(t *testing.T) {
	lcd := hd44780test.New(20, 4, 0x27)
	d := open(t, lcd, 20, 4)
	d.Show(idle)
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if lcd.DisplayOn() || lcd.Backlight() {
		t.Fatal("display or backlight on after Halt")
	}
	if err := d.Show(idle); err == nil {
		t.Fatal("Show after Halt accepted")
	}
	if err := lcd.Err(); err != nil {
		t.Fatal(err)
	}
}
