// Package mfrc522 reads the UIDs of 13.56 MHz (ISO 14443A, MIFARE) cards
// with an MFRC522 on SPI. It uses periph.io/x/devices' mfrc522/commands for
// the chip's registers and runs its own wait-for-card loop: every Poll it
// sends a REQA and sleeps on the chip's IRQ line until a card answers, so
// an idle reader costs three SPI writes per Poll and no CPU in between.
// (periph's mfrc522.Dev.ReadUID waits the same way but leaves a goroutine
// behind when halted or when the SPI bus fails, and cannot be woken.)
//
// A card held on the reader is seen again and again: repeats within
// Repeat are one read. Badge numbers are the UID as one big-endian
// unsigned integer in decimal: bytes 04 A2 B3 C4 read as 0x04A2B3C4 =
// 77771716. That is the hex UID phone apps and NFC tools show, in decimal;
// readers that print the bytes reversed give a different number for the
// same card.
package mfrc522

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/devices/v3/mfrc522/commands"

	"timeclock/hal"
	"timeclock/hal/internal/badgeq"
)

// Opts configures a reader.
type Opts struct {
	// Poll is how often the reader probes for a card.
	Poll time.Duration
	// Repeat is how long a card must be gone before it reads again.
	Repeat time.Duration
	// Gain is the antenna gain, 0 (18 dB) to 7 (48 dB).
	Gain int
	// Queue is how many reads may wait unread; more are dropped.
	Queue int
	// Logger gets the reader's state changes (failing, working again).
	Logger *slog.Logger
}

// DefaultOpts probes ten times a second.
var DefaultOpts = Opts{Poll: 100 * time.Millisecond, Repeat: time.Second, Gain: 4, Queue: 16}

// Dev is an MFRC522 reader.
type Dev struct {
	ll    *commands.LowLevel
	port  spi.Port
	irq   gpio.PinIn
	opts  Opts
	log   *slog.Logger
	reads badgeq.Queue
	done  chan struct{}
	wg    sync.WaitGroup
	halt  sync.Once
	err   error
	bad   atomic.Uint64

	filter badgeq.RepeatFilter // owned by the loop
}

var (
	_ hal.BadgeReader  = (*Dev)(nil)
	_ hal.FrameCounter = (*Dev)(nil)
)

// ReadError is a card read that went wrong half way (a garbled answer,
// usually a card moved away mid-read). It wraps hal.ErrBadFrame.
type ReadError struct{ Reason string }

func (e *ReadError) Error() string { return "mfrc522: bad card read: " + e.Reason }

// Unwrap makes errors.Is(err, hal.ErrBadFrame) hold.
func (e *ReadError) Unwrap() error { return hal.ErrBadFrame }

// errNoCard is a probe nobody answered: the normal case.
var errNoCard = errors.New("no card")

// New resets the chip, checks that it answers, and starts reading. irq is
// the chip's IRQ line (falling edge on a card's answer); without it (nil)
// the reader reads the interrupt register after each probe instead.
func New(port spi.Port, reset gpio.PinOut, irq gpio.PinIn, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Poll <= 0 || o.Gain < 0 || o.Gain > 7 {
		return nil, fmt.Errorf("mfrc522: poll %v must be positive, gain %d 0-7", o.Poll, o.Gain)
	}
	if o.Queue < 1 {
		o.Queue = DefaultOpts.Queue
	}
	ll, err := commands.NewLowLevelSPI(port, reset, irq)
	if err != nil {
		return nil, fmt.Errorf("mfrc522 on %s: %w", port, err)
	}
	ll.SetAntennaGain(o.Gain)
	if err := ll.Init(); err != nil {
		return nil, fmt.Errorf("mfrc522 on %s: init: %w", port, err)
	}
	// Nothing on the bus reads as 0x00 or 0xFF; the MFRC522 says 0x91 or
	// 0x92, clones 0x88, 0xB2 or 0x12.
	if v, err := ll.DevRead(commands.VersionReg); err != nil || v == 0x00 || v == 0xFF {
		return nil, fmt.Errorf("mfrc522 on %s: no chip answers (version register 0x%02x, %v)", port, v, err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dev{ll: ll, port: port, irq: irq, opts: o, log: log, reads: badgeq.New(o.Queue), done: make(chan struct{}), filter: badgeq.RepeatFilter{Window: o.Repeat}}
	d.wg.Add(1)
	go d.run()
	return d, nil
}

func (d *Dev) String() string { return fmt.Sprintf("mfrc522@%s", d.port) }

// BadFrames counts the card reads that went wrong half way.
func (d *Dev) BadFrames() uint64 { return d.bad.Load() }

// ReadBadge returns the next card, or an error wrapping hal.ErrBadFrame for
// a read that went wrong.
func (d *Dev) ReadBadge(ctx context.Context) (hal.BadgeEvent, error) {
	return d.reads.Next(ctx, d.done)
}

// Halt stops the loop and powers the chip down.
func (d *Dev) Halt() error {
	d.halt.Do(func() {
		close(d.done)
		exited := make(chan struct{})
		go func() { d.wg.Wait(); close(exited) }()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
	kick:
		for {
			if d.irq != nil {
				d.irq.Halt() // interrupts a pending WaitForEdge
			}
			select {
			case <-exited:
				break kick
			case <-tick.C:
			}
		}
		if err := d.ll.Halt(); err != nil {
			d.err = fmt.Errorf("mfrc522: power down: %w", err)
		}
	})
	return d.err
}

func (d *Dev) halted() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// run waits for cards and reads them until halted.
func (d *Dev) run() {
	defer d.wg.Done()
	failing := false
	backoff := d.opts.Poll
	for !d.halted() {
		uid, err := d.next()
		switch {
		case err == nil:
			if d.filter.Fresh(string(uid), time.Now()) {
				d.reads.Put(event(uid), nil)
			}
		case errors.Is(err, errNoCard):
		case errors.Is(err, hal.ErrBadFrame):
			d.bad.Add(1)
			d.reads.Put(hal.BadgeEvent{}, err)
		default:
			if !failing {
				d.log.Warn(fmt.Sprintf("%s: reading -> failing (%v)", d, err))
				failing = true
			}
			t := time.NewTimer(backoff)
			select {
			case <-d.done:
			case <-t.C:
			}
			t.Stop()
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		if failing {
			d.log.Info(fmt.Sprintf("%s: failing -> reading", d))
			failing = false
			backoff = d.opts.Poll
		}
	}
}

// next waits for a card to answer and reads its UID. It returns errNoCard
// when halted while waiting or when the answer turns out to be nothing.
func (d *Dev) next() ([]byte, error) {
	if err := d.wait(); err != nil {
		return nil, err
	}
	if err := d.ll.Init(); err != nil {
		return nil, err
	}
	uid, err := d.readUID()
	if err == nil {
		err = d.ll.StopCrypto()
	}
	if d.irq != nil {
		// Drop the edges the session's transfers raised, or the next wait
		// would wake at once (bounded: a stuck line must not hang us).
		for i := 0; i < 64 && d.irq.WaitForEdge(0); i++ {
		}
	}
	return uid, err
}

// The chip's wait-for-card setup (as periph's mfrc522 does it): the IRQ
// line follows RxIRq, inverted (active low); a probe is REQA (0x26, 7
// bits) transceived.
var (
	waitInit = [][2]byte{{commands.CommIrqReg, 0x7F}, {commands.CommIEnReg, 0xA0}}
	probe    = [][2]byte{{commands.FIFODataReg, 0x26}, {commands.CommandReg, commands.PCD_TRANSCEIVE}, {commands.BitFramingReg, 0x87}}
)

// wait probes every Poll until a card answers.
func (d *Dev) wait() error {
	if err := d.ll.Init(); err != nil {
		return err
	}
	if err := d.write(waitInit); err != nil {
		return err
	}
	for {
		if err := d.write(probe); err != nil {
			return err
		}
		if d.irq != nil {
			if d.irq.WaitForEdge(d.opts.Poll) {
				return nil
			}
		} else {
			t := time.NewTimer(d.opts.Poll)
			select {
			case <-d.done:
			case <-t.C:
			}
			t.Stop()
			v, err := d.ll.DevRead(commands.CommIrqReg)
			if err != nil {
				return err
			}
			if v&0x20 != 0 { // RxIRq: something answered
				return nil
			}
			if err := d.ll.DevWrite(commands.CommIrqReg, 0x7F); err != nil {
				return err
			}
		}
		if d.halted() {
			return errNoCard
		}
	}
}

func (d *Dev) write(seq [][2]byte) error {
	for _, rv := range seq {
		if err := d.ll.DevWrite(int(rv[0]), rv[1]); err != nil {
			return err
		}
	}
	return nil
}

// ISO 14443A commands.
const (
	reqA      = 0x26
	selCL1    = 0x93
	selCL2    = 0x95
	nvbAnti   = 0x20 // anticollision: no UID bits known
	nvbSelect = 0x70 // select: all 40 bits follow
	cascadeCT = 0x88 // first byte of a CL1 answer when the UID goes on
)

// readUID runs REQA, anticollision and select for cascade level 1, and
// anticollision for level 2 when the UID is 7 bytes long.
func (d *Dev) readUID() ([]byte, error) {
	if err := d.ll.DevWrite(commands.BitFramingReg, 0x07); err != nil {
		return nil, err
	}
	_, bits, err := d.ll.CardWrite(commands.PCD_TRANSCEIVE, []byte{reqA})
	if err != nil || bits != 16 {
		return nil, errNoCard // gone again, or noise
	}
	cl1, err := d.anticoll(selCL1)
	if err != nil {
		return nil, err
	}
	sel := append([]byte{selCL1, nvbSelect}, cl1...)
	crc, err := d.ll.CRC(sel)
	if err != nil {
		return nil, err
	}
	sak, bits, err := d.ll.CardWrite(commands.PCD_TRANSCEIVE, append(sel, crc...))
	if err != nil || bits != 24 || len(sak) < 1 {
		return nil, &ReadError{fmt.Sprintf("select: no SAK (%d bits, %v)", bits, err)}
	}
	if cl1[0] != cascadeCT {
		return cl1[:4], nil
	}
	if sak[0]&0x04 == 0 {
		return nil, &ReadError{fmt.Sprintf("cascade tag but SAK 0x%02x says the UID is complete", sak[0])}
	}
	cl2, err := d.anticoll(selCL2)
	if err != nil {
		return nil, err
	}
	return append(cl1[1:4:4], cl2[:4]...), nil
}

// anticoll asks for a cascade level's 4 UID bytes and checks their BCC.
func (d *Dev) anticoll(level byte) ([]byte, error) {
	if err := d.ll.DevWrite(commands.BitFramingReg, 0x00); err != nil {
		return nil, err
	}
	back, _, err := d.ll.CardWrite(commands.PCD_TRANSCEIVE, []byte{level, nvbAnti})
	if err != nil || len(back) != 5 {
		return nil, &ReadError{fmt.Sprintf("anticollision 0x%02x: %d bytes, %v", level, len(back), err)}
	}
	if bcc := back[0] ^ back[1] ^ back[2] ^ back[3]; bcc != back[4] {
		return nil, &ReadError{fmt.Sprintf("anticollision 0x%02x: BCC 0x%02x, the UID gives 0x%02x", level, back[4], bcc)}
	}
	return back, nil
}

// event makes the badge of a UID.
func event(uid []byte) hal.BadgeEvent {
	var n uint64
	for _, b := range uid {
		n = n<<8 | uint64(b)
	}
	return hal.BadgeEvent{Raw: append([]byte(nil), uid...), Bits: 8 * len(uid), Format: hal.FormatMifare, Number: strconv.FormatUint(n, 10), Time: time.Now()}
}
