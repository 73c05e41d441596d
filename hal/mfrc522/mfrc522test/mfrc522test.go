// Package mfrc522test emulates an MFRC522 on SPI, with ISO 14443A cards
// that can be held over it, for testing hal/mfrc522: registers, the FIFO,
// the Transceive, CalcCRC and SoftReset commands, the interrupt registers
// and the IRQ line (a haltest.EdgePin), and a card's state machine (REQA,
// anticollision and select at cascade levels 1 and 2, CRC_A checked).
package mfrc522test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"timeclock/hal/haltest"
)

// Registers the emulation gives meaning to.
const (
	regCommand    = 0x01
	regCommIEn    = 0x02
	regCommIrq    = 0x04
	regDivIrq     = 0x05
	regFIFOData   = 0x09
	regFIFOLevel  = 0x0A
	regControl    = 0x0C
	regBitFraming = 0x0D
	regTxControl  = 0x14
	regCRCResultM = 0x21
	regCRCResultL = 0x22
	regVersion    = 0x37

	cmdCalcCRC    = 0x03
	cmdTransceive = 0x0C
	cmdSoftReset  = 0x0F
)

// card states of ISO 14443-3.
type state int

const (
	idle state = iota
	ready
	ready2 // cascade level 1 selected, level 2 next
	active
)

// Chip is the emulated MFRC522 and the card field over it.
type Chip struct {
	// IRQ is the chip's IRQ line.
	IRQ *haltest.EdgePin

	mu      sync.Mutex
	changed chan struct{} // guarded by mu
	regs    [64]byte      // guarded by mu
	fifo    []byte        // guarded by mu
	irqOn   bool          // guarded by mu
	conn    bool          // guarded by mu

	card    []byte // guarded by mu; UID of the card in the field, nil for none
	st      state  // guarded by mu
	once    bool   // guarded by mu; the card leaves once selected
	garble  bool   // guarded by mu; the card's anticollision answer is garbled, then it leaves
	selects int    // guarded by mu; cards selected so far
	ops     int    // guarded by mu; SPI transfers so far

	script func(frame []byte, txBits int) ([]byte, byte) // guarded by mu; see Script
}

// Script makes every transceive answer what fn says instead of the card:
// answer (nil: nobody answered in time) and the valid bits of its last byte
// (0 for all 8). For fuzzing the reader with answers no card would give.
func (c *Chip) Script(fn func(frame []byte, txBits int) (answer []byte, lastBits byte)) {
	c.mu.Lock()
	c.script = fn
	c.mu.Unlock()
}

// New returns a powered chip with no card near.
func New() *Chip {
	c := &Chip{IRQ: haltest.NewEdgePin("GPIO24", 24, gpio.High), changed: make(chan struct{})}
	c.reset()
	return c
}

func (c *Chip) reset() {
	clear(c.regs[:])
	c.regs[regCommIEn] = 0x80
	c.regs[regCommIrq] = 0x14
	c.regs[regTxControl] = 0x80 // antenna off
	c.regs[regVersion] = 0x92
	c.fifo = c.fifo[:0]
	c.st = idle // the field went off: the card forgets
	c.updateIRQ()
}

func (c *Chip) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Hold puts a card with uid over the reader until Take.
func (c *Chip) Hold(uid []byte) { c.put(uid, false, false) }

// Take removes the card.
func (c *Chip) Take() { c.put(nil, false, false) }

// Tap holds a card over the reader until it has been selected once (read),
// and waits for that.
func (c *Chip) Tap(t testing.TB, uid []byte) {
	t.Helper()
	c.put(uid, true, false)
	c.waitGone(t)
}

// TapGarbled holds a card whose anticollision answer arrives garbled (a
// bad BCC), as when a card is pulled away mid-read, and waits for the
// attempt.
func (c *Chip) TapGarbled(t testing.TB, uid []byte) {
	t.Helper()
	c.put(uid, true, true)
	c.waitGone(t)
}

func (c *Chip) put(uid []byte, once, garble bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.card = bytes.Clone(uid)
	c.st, c.once, c.garble = idle, once, garble
	c.notifyLocked()
}

func (c *Chip) waitGone(t testing.TB) {
	t.Helper()
	deadline := time.NewTimer(haltest.Deadline)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		gone, ch := c.card == nil, c.changed
		c.mu.Unlock()
		if gone {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("card not read within %v", haltest.Deadline)
		}
	}
}

// Selects is how many times a card was selected.
func (c *Chip) Selects() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.selects
}

// Ops is how many SPI transfers the chip has seen.
func (c *Chip) Ops() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops
}

func (c *Chip) String() string { return "mfrc522test" }

// Connect implements spi.Port.
func (c *Chip) Connect(f physic.Frequency, mode spi.Mode, bits int) (spi.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn {
		return nil, fmt.Errorf("mfrc522test: Connect called twice")
	}
	if mode != spi.Mode0 || bits != 8 || f > 10*physic.MegaHertz {
		return nil, fmt.Errorf("mfrc522test: mode %v, %d bits, %v: the chip wants mode 0, 8 bits, <= 10 MHz", mode, bits, f)
	}
	c.conn = true
	return (*spiConn)(c), nil
}

// LimitSpeed implements spi.Port.
func (c *Chip) LimitSpeed(physic.Frequency) error { return nil }

// Close implements spi.PortCloser.
func (c *Chip) Close() error { return nil }

type spiConn Chip

func (s *spiConn) String() string      { return "mfrc522test" }
func (s *spiConn) Duplex() conn.Duplex { return conn.Full }
func (s *spiConn) TxPackets(p []spi.Packet) error {
	return fmt.Errorf("mfrc522test: TxPackets not used")
}
func (s *spiConn) Tx(w, r []byte) error { return (*Chip)(s).tx(w, r) }

var _ spi.Conn = (*spiConn)(nil)

// tx is one SPI transfer: an address byte (bit 7 read, bits 6-1 the
// register), then one data byte.
func (c *Chip) tx(w, r []byte) error {
	if len(w) != 2 || (len(r) != 0 && len(r) != 2) {
		return fmt.Errorf("mfrc522test: transfer of %d/%d bytes: want address and one byte", len(w), len(r))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops++
	reg := int(w[0]>>1) & 0x3F
	if w[0]&0x80 != 0 {
		if len(r) == 2 {
			r[1] = c.read(reg)
		}
		return nil
	}
	c.write(reg, w[1])
	return nil
}

func (c *Chip) read(reg int) byte {
	switch reg {
	case regFIFOData:
		if len(c.fifo) == 0 {
			return 0
		}
		b := c.fifo[0]
		c.fifo = c.fifo[1:]
		return b
	case regFIFOLevel:
		return byte(len(c.fifo))
	}
	return c.regs[reg]
}

func (c *Chip) write(reg int, v byte) {
	switch reg {
	case regCommand:
		c.command(v & 0x1F)
		c.regs[reg] = v & 0x1F
	case regCommIrq, regDivIrq:
		// Set1 (bit 7) sets the marked bits, else clears them.
		if v&0x80 != 0 {
			c.regs[reg] |= v & 0x7F
		} else {
			c.regs[reg] &^= v & 0x7F
		}
	case regFIFOData:
		if len(c.fifo) < 64 {
			c.fifo = append(c.fifo, v)
		}
	case regFIFOLevel:
		if v&0x80 != 0 {
			c.fifo = c.fifo[:0]
		}
	case regBitFraming:
		c.regs[reg] = v
		if v&0x80 != 0 && c.regs[regCommand] == cmdTransceive {
			c.transceive(int(v & 0x07))
		}
	case regVersion:
	default:
		c.regs[reg] = v
	}
	c.updateIRQ()
}

func (c *Chip) command(cmd byte) {
	switch cmd {
	case cmdSoftReset:
		c.reset()
	case cmdCalcCRC:
		crc := crcA(c.fifo)
		c.fifo = c.fifo[:0]
		c.regs[regCRCResultL], c.regs[regCRCResultM] = byte(crc), byte(crc>>8)
		c.regs[regDivIrq] |= 0x04
	}
}

// transceive sends the FIFO to the card (txBits: bits of the last byte,
// 0 for all 8) and puts its answer in the FIFO.
func (c *Chip) transceive(txBits int) {
	frame := bytes.Clone(c.fifo)
	c.fifo = c.fifo[:0]
	c.regs[regControl] &^= 0x07
	var answer []byte
	if c.script != nil {
		var last byte
		answer, last = c.script(frame, txBits)
		if len(answer) > 64 {
			answer = answer[:64] // the FIFO's size
		}
		c.regs[regControl] |= last & 0x07
	} else {
		answer = c.cardAnswer(frame, txBits)
	}
	if answer == nil {
		c.regs[regCommIrq] |= 0x01 // TimerIRq: nobody answered in time
		return
	}
	c.fifo = append(c.fifo, answer...)
	c.regs[regCommIrq] |= 0x30 // RxIRq, IdleIRq
}

// cardAnswer is the card's side of ISO 14443-3.
func (c *Chip) cardAnswer(f []byte, txBits int) []byte {
	if c.card == nil || c.regs[regTxControl]&0x03 != 0x03 || len(f) == 0 {
		return nil
	}
	uid := c.card
	double := len(uid) == 7
	switch {
	case txBits == 7 && len(f) == 1 && f[0] == 0x26: // REQA
		if c.st != idle {
			return nil
		}
		c.st = ready
		if double {
			return []byte{0x44, 0x00}
		}
		return []byte{0x04, 0x00}
	case len(f) == 2 && f[0] == 0x93 && f[1] == 0x20 && c.st == ready:
		a := c.level(1)
		if c.garble {
			a[4] ^= 0xFF
			c.card, c.st = nil, idle // pulled away mid-read
			c.notifyLocked()
		}
		return a
	case len(f) == 9 && f[0] == 0x93 && f[1] == 0x70 && c.st == ready:
		if crcA(f[:7]) != uint16(f[7])|uint16(f[8])<<8 || !bytes.Equal(f[2:7], c.level(1)) {
			return nil // a bad select is ignored
		}
		sak := byte(0x08)
		c.st = active
		if double {
			sak, c.st = 0x04, ready2
		}
		c.selects++
		if c.once && !double {
			c.card = nil
		}
		c.notifyLocked()
		crc := crcA([]byte{sak})
		return []byte{sak, byte(crc), byte(crc >> 8)}
	case len(f) == 2 && f[0] == 0x95 && f[1] == 0x20 && c.st == ready2:
		a := c.level(2)
		if c.once {
			c.card = nil
			c.notifyLocked()
		}
		return a
	}
	return nil
}

// level is a cascade level's anticollision answer: 4 UID bytes and BCC.
func (c *Chip) level(n int) []byte {
	uid := c.card
	var b []byte
	switch {
	case len(uid) == 4:
		b = bytes.Clone(uid)
	case n == 1:
		b = []byte{0x88, uid[0], uid[1], uid[2]}
	default:
		b = bytes.Clone(uid[3:7])
	}
	return append(b, b[0]^b[1]^b[2]^b[3])
}

// updateIRQ drives the IRQ line: active (low, with IRqInv) while an
// enabled interrupt is pending; a falling edge when it becomes so.
func (c *Chip) updateIRQ() {
	on := c.regs[regCommIrq]&c.regs[regCommIEn]&0x7F != 0
	if on && !c.irqOn {
		c.IRQ.Post(gpio.Low)
	}
	c.irqOn = on
}

// crcA is ISO 14443A's CRC (CRC-16/ISO-IEC-14443-3-A), low byte first on
// the wire.
func crcA(b []byte) uint16 {
	crc := uint16(0x6363)
	for _, x := range b {
		x ^= byte(crc)
		x ^= x << 4
		crc = crc>>8 ^ uint16(x)<<8 ^ uint16(x)<<3 ^ uint16(x)>>4
	}
	return crc
}

var _ spi.PortCloser = (*Chip)(nil)
