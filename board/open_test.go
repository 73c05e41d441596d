package board

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"

	"timeclock/hal"
	"timeclock/hal/haltest"
	"timeclock/hal/hd44780/hd44780test"
	"timeclock/hal/matrix/matrixtest"
	"timeclock/hal/mfrc522/mfrc522test"
	"timeclock/hal/wiegand"
)

func TestOpenWithoutGPIONamesThePin(t *testing.T) {
	if ms, _ := filepath.Glob("/dev/gpiochip*"); len(ms) > 0 {
		t.Skip("this host has GPIO chips")
	}
	m, _ := Lookup("rpi-devkit")
	s, err := Open(m, Opts{})
	if err == nil {
		s.Halt()
		t.Fatal("opened the dev kit on a host without GPIO")
	}
	for _, want := range []string{"board rpi-devkit", "keypad.rows[0]", "GPIO pin GPIO5 not found", "GPIO27"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// bench is a board on periph test doubles registered under the names a
// board file uses: an emulated LCD on I2C bus TESTI2C, an emulated MFRC522
// on SPI port TESTSPI, a modelled matrix keypad, Wiegand lines and LEDs.
type bench struct {
	lcd     *hd44780test.LCD
	chip    *mfrc522test.Chip
	kp      *matrixtest.Keypad
	d0, d1  *haltest.EdgePin
	green   *gpiotest.Pin
	red     *gpiotest.Pin
	mu      sync.Mutex
	i2cOpen int // guarded by mu
	spiOpen int // guarded by mu
}

type lcdBus struct {
	*hd44780test.LCD
	b *bench
}

func (l lcdBus) Close() error { l.b.mu.Lock(); l.b.i2cOpen--; l.b.mu.Unlock(); return nil }

type chipPort struct {
	*mfrc522test.Chip
	b *bench
}

func (c chipPort) Close() error { c.b.mu.Lock(); c.b.spiOpen--; c.b.mu.Unlock(); return nil }

// named registers a pin under a board file's name.
type named struct {
	gpio.PinIO
	name string
}

func (n named) Name() string { return n.name }

func newBench(t *testing.T) *bench {
	t.Helper()
	b := &bench{
		lcd: hd44780test.New(20, 4, 0x27), chip: mfrc522test.New(), kp: matrixtest.New(5, 4),
		d0: haltest.NewEdgePin("D0", 1, gpio.High), d1: haltest.NewEdgePin("D1", 2, gpio.High),
		green: &gpiotest.Pin{N: "G"}, red: &gpiotest.Pin{N: "R"},
	}
	reg := func(name string, p gpio.PinIO) {
		if err := gpioreg.Register(named{p, name}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gpioreg.Unregister(name) })
	}
	for i, p := range b.kp.RowPins() {
		reg(fmt.Sprintf("T_R%d", i), p)
	}
	for i, p := range b.kp.ColPins() {
		reg(fmt.Sprintf("T_C%d", i), p)
	}
	reg("T_D0", b.d0)
	reg("T_D1", b.d1)
	reg("T_GREEN", b.green)
	reg("T_RED", b.red)
	reg("T_RST", &gpiotest.Pin{N: "RST"})
	reg("T_IRQ", b.chip.IRQ)
	if err := i2creg.Register("TESTI2C", nil, -1, func() (i2c.BusCloser, error) {
		b.mu.Lock()
		b.i2cOpen++
		b.mu.Unlock()
		return lcdBus{b.lcd, b}, nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { i2creg.Unregister("TESTI2C") })
	if err := spireg.Register("TESTSPI", nil, -1, func() (spi.PortCloser, error) {
		b.mu.Lock()
		b.spiOpen++
		b.mu.Unlock()
		return chipPort{b.chip, b}, nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { spireg.Unregister("TESTSPI") })
	return b
}

const benchFile = `{"models": [{
	"name": "bench-kit", "family": "test", "description": "a dev kit on test doubles",
	"display": {"driver": "hd44780", "cols": 20, "rows": 4, "bus": "TESTI2C", "addr": 39},
	"keypad": {"driver": "matrix", "rows": ["T_R0","T_R1","T_R2","T_R3","T_R4"], "cols": ["T_C0","T_C1","T_C2","T_C3"],
		"layout": ["f1","f2","f3","f4","1","2","3","up","4","5","6","down","7","8","9","clear","*","0","#","enter"], "debounce_ms": 5},
	"badges": [{"driver": "wiegand", "d0": "T_D0", "d1": "T_D1"}, {"driver": "mfrc522", "bus": "SPIBUS", "reset": "T_RST", "irq": "T_IRQ"}],
	"indicator": {"driver": "gpio", "green": "T_GREEN", "red": "T_RED"},
	"inputs": [{"kind": "pin", "driven": true}, {"kind": "rfid", "driven": true}],
	"network": [{"name": "eth0", "kind": "lan"}]
}]}`

func benchModel(t *testing.T, spiBus string) Model {
	t.Helper()
	p := filepath.Join(t.TempDir(), "boards.json")
	os.WriteFile(p, []byte(strings.ReplaceAll(benchFile, "SPIBUS", spiBus)), 0o600)
	ms, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return ms[0]
}

func TestOpenHardwareFromBoardFile(t *testing.T) {
	b := newBench(t)
	s, err := Open(benchModel(t, "TESTSPI"), Opts{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Halt()
	ctx, cancel := context.WithTimeout(context.Background(), haltest.Deadline)
	defer cancel()

	if err := s.Display.Show([]string{"Badge or PIN"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(b.lcd.Screen()[0]); got != "Badge or PIN" {
		t.Fatalf("LCD shows %q", got)
	}
	b.kp.Press(t, 4, 3) // enter
	if ev, err := s.Keypad.ReadKey(ctx); err != nil || ev.Key != hal.KeyEnter {
		t.Fatalf("keypad: %v, %v", ev, err)
	}
	// The board's Wiegand reader ends frames after 25 ms of silence: on a
	// loaded machine a frame may split, which reads as bad frames; swipe
	// again then, as a person would.
	frame, _ := wiegand.Encode(26, 12, 3456)
	var ev hal.BadgeEvent
	for try := 0; ; try++ {
		for _, bit := range frame {
			if bit == 0 {
				b.d0.Edge(t, gpio.Low)
			} else {
				b.d1.Edge(t, gpio.Low)
			}
		}
		if ev, err = s.Badges[0].ReadBadge(ctx); !errors.Is(err, hal.ErrBadFrame) || try == 5 {
			break
		}
	}
	if err != nil || ev.Facility != 12 || ev.Number != "3456" {
		t.Fatalf("wiegand: %v, %v", ev, err)
	}
	b.chip.Tap(t, []byte{0x04, 0xA2, 0xB3, 0xC4})
	if ev, err := s.Badges[1].ReadBadge(ctx); err != nil || ev.Number != "77771716" {
		t.Fatalf("mfrc522: %v, %v", ev, err)
	}
	if err := s.Indicator.SetLED(hal.LEDGreen, true); err != nil || b.green.Read() != gpio.High {
		t.Fatalf("green LED: %v", err)
	}
	if err := s.Halt(); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.i2cOpen != 0 || b.spiOpen != 0 {
		t.Fatalf("buses left open after Halt: i2c %d, spi %d", b.i2cOpen, b.spiOpen)
	}
	if b.lcd.DisplayOn() || b.green.Read() != gpio.Low {
		t.Fatal("display or LED still on after Halt")
	}
}

func TestOpenFailureHaltsWhatWasOpened(t *testing.T) {
	b := newBench(t)
	_, err := Open(benchModel(t, "NOSUCHSPI"), Opts{})
	if err == nil || !strings.Contains(err.Error(), "badges[1] (mfrc522)") || !strings.Contains(err.Error(), `SPI port "NOSUCHSPI"`) {
		t.Fatalf("Open with a missing SPI port: %v", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.i2cOpen != 0 {
		t.Fatal("the I2C bus opened for the display was left open")
	}
	if b.lcd.DisplayOn() {
		t.Fatal("the display opened before the failure was not halted")
	}
	for _, r := range b.kp.Rows {
		if r.Read() == gpio.Low {
			t.Fatal("the keypad opened before the failure still drives its rows")
		}
	}
}

// edgeLog is a gpioioctl-like pin that records the timeouts it is given.
type edgeLog struct {
	gpiotest.Pin
	got []time.Duration
}

func (e *edgeLog) WaitForEdge(d time.Duration) bool { e.got = append(e.got, d); return false }

func TestIoctlPinTimeouts(t *testing.T) {
	e := &edgeLog{}
	p := &ioctlPin{PinIO: e}
	for _, d := range []time.Duration{-1, 0, 5 * time.Millisecond} {
		p.WaitForEdge(d)
	}
	want := []time.Duration{0, time.Microsecond, 5 * time.Millisecond}
	for i := range want {
		if e.got[i] != want[i] {
			t.Fatalf("timeouts passed on %v, want %v (gpioioctl: 0 is forever)", e.got, want)
		}
	}
	if fixEdges(e) != gpio.PinIO(e) {
		t.Fatal("fixEdges wrapped a pin that is not gpioioctl's")
	}
}

// TestOpenSimFingerprint: the sim board's fingerprint module is the real
// driver on the simulated module over a pty; the control socket's
// "finger ID" places a finger there.
func TestOpenSimFingerprint(t *testing.T) {
	m, _ := Lookup("sim")
	s, err := Open(m, Opts{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Halt()
	if s.Finger == nil || !strings.HasPrefix(s.Finger.String(), "fingerprint(/dev/pts/") {
		t.Fatalf("sim fingerprint %v, want the driver on a pty", s.Finger)
	}
	if r := s.Sim.Exec(context.Background(), "finger E100"); r["ok"] != true {
		t.Fatalf("finger E100: %v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := s.Finger.ReadFinger(ctx)
	if err != nil || ev.Matched {
		t.Fatalf("a finger nobody enrolled: %+v %v, want an unknown finger", ev, err)
	}
	if r := s.Sim.Exec(context.Background(), "finger a b"); r["ok"] != false {
		t.Fatalf("finger with a space: %v, want an error", r)
	}
}
