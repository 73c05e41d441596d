package ssd1306_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"timeclock/hal/haltest"
	"timeclock/hal/ssd1306"
	"timeclock/hal/ssd1306/ssd1306test"
)

var update = flag.Bool("update", false, "rewrite testdata from the emulator")

func open(t *testing.T, bus i2c.Bus, addr uint16) *ssd1306.Dev {
	t.Helper()
	d, err := ssd1306.New(bus, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSuite(t *testing.T) {
	haltest.Display(t, func(t *testing.T) haltest.DisplayHarness {
		oled := ssd1306test.New(128, 64, 0x3C)
		t.Cleanup(func() {
			if err := oled.Err(); err != nil {
				t.Error(err)
			}
		})
		return haltest.DisplayHarness{
			Dev:    open(t, oled, 0x3C),
			Screen: func(testing.TB) []string { return oled.Screen() },
			Lit:    func(testing.TB) bool { return oled.On() },
		}
	})
}

func TestSize(t *testing.T) {
	d := open(t, ssd1306test.New(128, 64, 0x3C), 0x3C)
	if c, r := d.Size(); c != 21 || r != 8 {
		t.Fatalf("Size = %dx%d, want 21x8", c, r)
	}
}

func TestOtherAddress(t *testing.T) {
	oled := ssd1306test.New(128, 64, 0x3D)
	d := open(t, oled, 0x3D)
	d.Show([]string{"at 0x3D"})
	if got := strings.TrimRight(oled.Screen()[0], " "); got != "at 0x3D" {
		t.Fatalf("screen %q", got)
	}
	if _, err := ssd1306.New(ssd1306test.New(128, 64, 0x3D), 0x3C, nil); err == nil || !strings.Contains(err.Error(), "0x3c") {
		t.Fatalf("New at an empty address: %v", err)
	}
}

var idle = []string{"Sun 22 Nov", "09:41", "", "Badge or PIN", "", "", "", "Not connected"}

// TestFontGolden draws the idle screen as pixels; testdata/idle.txt is
// what a person checked by eye.
func TestFontGolden(t *testing.T) {
	oled := ssd1306test.New(128, 64, 0x3C)
	d := open(t, oled, 0x3C)
	if err := d.Show(idle); err != nil {
		t.Fatal(err)
	}
	const path = "testdata/idle.txt"
	got := oled.Pixels()
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("pixels differ from %s (go test -run FontGolden -update, then look):\n%s", path, got)
	}
}

func TestChangedCellOnlyOnTheBus(t *testing.T) {
	oled := ssd1306test.New(128, 64, 0x3C)
	d := open(t, oled, 0x3C)
	d.Show(idle)
	_, before := oled.Bytes()
	tick := append([]string{idle[0], "09:42"}, idle[2:]...)
	d.Show(tick)
	_, after := oled.Bytes()
	// One page, one cell's columns, plus addressing: far below the 1 KiB
	// of a full frame.
	if n := after - before; n > 20 {
		t.Fatalf("one changed character cost %d bytes", n)
	}
}

func TestDarkPanelKeepsText(t *testing.T) {
	oled := ssd1306test.New(128, 64, 0x3C)
	d := open(t, oled, 0x3C)
	d.SetBacklight(false)
	d.Show([]string{"while dark"})
	if oled.On() {
		t.Fatal("Show switched a dark panel on")
	}
	d.SetBacklight(true)
	if got := strings.TrimRight(oled.Screen()[0], " "); got != "while dark" {
		t.Fatalf("after switching on: %q", got)
	}
}

func session(t *testing.T, bus i2c.Bus) {
	d := open(t, bus, 0x3C)
	for _, s := range [][]string{idle, append([]string{idle[0], "09:42"}, idle[2:]...)} {
		if err := d.Show(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SetBacklight(false); err != nil {
		t.Fatal(err)
	}
	if err := d.SetBacklight(true); err != nil {
		t.Fatal(err)
	}
	if err := d.Clear(); err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
}

func TestPlayback(t *testing.T) {
	const path = "testdata/oled-128x64.txt"
	if *update {
		oled := ssd1306test.New(128, 64, 0x3C)
		rec := &i2ctest.Record{Bus: oled}
		session(t, rec)
		if err := oled.Err(); err != nil {
			t.Fatal(err)
		}
		haltest.SaveI2C(t, path, "ssd1306 128x64 at 0x3C: init, blank frame, idle screen, minute tick,\npanel off and on, clear, halt. Recorded from ssd1306test (-update); reviewed.", rec.Ops)
	}
	pb := &i2ctest.Playback{Ops: haltest.LoadI2C(t, path), DontPanic: true}
	session(t, pb)
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}
