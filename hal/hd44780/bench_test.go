package hd44780

import (
	"strings"
	"testing"

	"timeclock/hal/hd44780/hd44780test"
)

// BenchmarkLCDBytes reports the bytes on the I2C wire (address bytes
// included) for updates of the dev kit's 20x4 LCD: every cell changed
// (bytes/full), one whole line changed (bytes/line), and the idle screen's
// minute ticking over (bytes/tick).
func BenchmarkLCDBytes(b *testing.B) {
	lcd := hd44780test.New(20, 4, 0x27)
	d, err := newDev(lcd, 0x27, nil, noSleep)
	if err != nil {
		b.Fatal(err)
	}
	screenA := []string{strings.Repeat("a", 20), strings.Repeat("b", 20), strings.Repeat("c", 20), strings.Repeat("d", 20)}
	screenB := []string{strings.Repeat("A", 20), strings.Repeat("B", 20), strings.Repeat("C", 20), strings.Repeat("D", 20)}
	lineB := append([]string(nil), screenB...)
	lineB[2] = strings.Repeat("x", 20)
	tick := append([]string{"Sun 22 Nov     09:42"}, idle[1:]...)
	cost := func(lines []string) int {
		_, before := lcd.Bytes()
		if err := d.Show(lines); err != nil {
			b.Fatal(err)
		}
		_, after := lcd.Bytes()
		return after - before
	}
	var full, line, minute int
	for b.Loop() {
		cost(screenA)
		full = cost(screenB)
		line = cost(lineB)
		cost(idle)
		minute = cost(tick)
	}
	if err := lcd.Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(full), "bytes/full")
	b.ReportMetric(float64(line), "bytes/line")
	b.ReportMetric(float64(minute), "bytes/tick")
}
