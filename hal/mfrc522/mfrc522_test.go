package mfrc522

import (
	"context"
	"errors"
	"flag"
	"strconv"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"

	"timeclock/hal"
	"timeclock/hal/haltest"
	"timeclock/hal/mfrc522/mfrc522test"
	"timeclock/internal/await"
)

var update = flag.Bool("update", false, "rewrite testdata recordings from the emulator")

func open(t *testing.T, port spi.Port, irq gpio.PinIn, o *Opts) *Dev {
	t.Helper()
	if o == nil {
		o = &Opts{Poll: 20 * time.Millisecond, Repeat: time.Second, Gain: 4}
	}
	d, err := New(port, &gpiotest.Pin{N: "GPIO25"}, irq, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	return d
}

func read(t *testing.T, d *Dev) (hal.BadgeEvent, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), haltest.Deadline)
	defer cancel()
	return d.ReadBadge(ctx)
}

func uid4(i int) []byte { return []byte{0x12, 0x34, byte(i >> 8), byte(i)} }

func TestSuite(t *testing.T) {
	haltest.BadgeReader(t, func(t *testing.T) haltest.BadgeHarness {
		chip := mfrc522test.New()
		return haltest.BadgeHarness{
			Dev: open(t, chip, chip.IRQ, nil),
			Swipe: func(t testing.TB, i int) hal.BadgeEvent {
				chip.Tap(t, uid4(i))
				return hal.BadgeEvent{Format: hal.FormatMifare, Number: strconv.Itoa(0x12340000 + i)}
			},
			Bad: func(t testing.TB) { chip.TapGarbled(t, uid4(999)) },
		}
	})
}

func TestUIDs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		uid    []byte
		number string
	}{
		{"4 bytes", []byte{0x04, 0xA2, 0xB3, 0xC4}, "77771716"},
		{"7 bytes (NTAG)", []byte{0x04, 0x5A, 0x6B, 0x7C, 0x8D, 0x9E, 0x80}, "1225317604499072"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chip := mfrc522test.New()
			d := open(t, chip, chip.IRQ, nil)
			chip.Tap(t, tc.uid)
			ev, err := read(t, d)
			if err != nil || ev.Number != tc.number || ev.Key() != tc.number || ev.Facility != 0 || ev.Format != hal.FormatMifare ||
				ev.Bits != 8*len(tc.uid) || string(ev.Raw) != string(tc.uid) {
				t.Fatalf("read %+v, %v; want number %s", ev, err, tc.number)
			}
		})
	}
}

func TestHeldCardReadsOnce(t *testing.T) {
	chip := mfrc522test.New()
	d := open(t, chip, chip.IRQ, &Opts{Poll: 5 * time.Millisecond, Repeat: time.Hour, Gain: 4})
	chip.Hold(uid4(1))
	// The reader reads the held card again and again.
	await.True(t, haltest.Deadline, func() bool { return chip.Selects() >= 4 }, "held card not read repeatedly")
	chip.Take()
	chip.Tap(t, uid4(2))
	// Taking a card away mid-read garbles that read: such reads are
	// reported as bad frames, never as badges.
	next := func() hal.BadgeEvent {
		for {
			ev, err := read(t, d)
			if err == nil {
				return ev
			}
			if !errors.Is(err, hal.ErrBadFrame) {
				t.Fatal(err)
			}
		}
	}
	a, b := next(), next()
	if a.Number != strconv.Itoa(0x12340001) || b.Number != strconv.Itoa(0x12340002) {
		t.Fatalf("read %s then %s: a held card must read once", a.Number, b.Number)
	}
}

func TestWithoutIRQLine(t *testing.T) {
	chip := mfrc522test.New()
	d := open(t, chip, nil, &Opts{Poll: 2 * time.Millisecond, Repeat: time.Second, Gain: 4})
	chip.Tap(t, uid4(5))
	if ev, err := read(t, d); err != nil || ev.Number != strconv.Itoa(0x12340005) {
		t.Fatalf("read %+v, %v", ev, err)
	}
}

func TestNoChip(t *testing.T) {
	// A bus with nothing on it: MISO floats low, every byte reads 0.
	_, err := New(&spitest.Record{Port: zeros{}}, &gpiotest.Pin{N: "GPIO25"}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "no chip answers") {
		t.Fatalf("New with no chip: %v", err)
	}
}

// zeros is an SPI port with nothing connected.
type zeros struct{ spi.PortCloser }

func (zeros) Connect(physic.Frequency, spi.Mode, int) (spi.Conn, error) { return zeroConn{}, nil }
func (zeros) Close() error                                              { return nil }

type zeroConn struct{ spi.Conn }

func (zeroConn) Tx(w, r []byte) error { clear(r); return nil }

func TestIdleReaderBlocksOnIRQ(t *testing.T) {
	chip := mfrc522test.New()
	open(t, chip, chip.IRQ, &Opts{Poll: time.Hour, Repeat: time.Second, Gain: 4})
	chip.IRQ.WaitBlocked(t)
	// Init, the wait set-up and one probe; then nothing until a card or
	// the next Poll.
	if n := chip.Ops(); n > 40 {
		t.Fatalf("%d SPI transfers before the first wait", n)
	}
}

// session is what the playback recording holds: start, a card tapped,
// the next wait, halt.
func session(t *testing.T, port spi.Port, irq *haltest.EdgePin, tap func()) {
	t.Helper()
	d, err := New(port, &gpiotest.Pin{N: "GPIO25"}, irq, &Opts{Poll: time.Hour, Repeat: time.Second, Gain: 4})
	if err != nil {
		t.Fatal(err)
	}
	tap()
	ev, err := read(t, d)
	if err != nil || ev.Number != "77771716" {
		t.Fatalf("read %+v, %v", ev, err)
	}
	irq.WaitBlocked(t) // the next wait has begun: the recording ends here
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
}

func TestPlayback(t *testing.T) {
	const path = "testdata/tap-4byte.txt"
	uid := []byte{0x04, 0xA2, 0xB3, 0xC4}
	if *update {
		chip := mfrc522test.New()
		rec := &spitest.Record{Port: chip}
		session(t, rec, chip.IRQ, func() { chip.Tap(t, uid) })
		haltest.SaveSPI(t, path, "mfrc522 on SPI: init, version check, wait set-up, probe, IRQ,\nREQA, anticollision, select (UID 04 A2 B3 C4), stop crypto, next wait, power down.\nRecorded from mfrc522test (go test -run Playback -update); reviewed.", rec.Ops)
	}
	pb := &spitest.Playback{}
	pb.Ops = haltest.LoadSPI(t, path)
	pb.DontPanic = true
	irq := haltest.NewEdgePin("GPIO24", 24, gpio.High)
	session(t, pb, irq, func() { irq.Post(gpio.Low) })
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}
