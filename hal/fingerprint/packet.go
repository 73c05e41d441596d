package fingerprint

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Packet identifiers (the byte after the address).
const (
	PIDCommand = 0x01 // host -> sensor
	PIDData    = 0x02 // a data packet, more follow
	PIDAck     = 0x07 // sensor -> host: the reply to a command
	PIDEndData = 0x08 // the last data packet
)

// Commands (the first payload byte of a command packet).
const (
	CmdGenImg        = 0x01 // take an image of the finger on the sensor
	CmdImg2Tz        = 0x02 // image -> features in char buffer 1 or 2
	CmdMatch         = 0x03 // compare char buffers 1 and 2
	CmdSearch        = 0x04 // search the library for char buffer N
	CmdRegModel      = 0x05 // combine buffers 1 and 2 into a template
	CmdStore         = 0x06 // keep char buffer N as template at a page
	CmdDelete        = 0x0C // delete templates
	CmdEmpty         = 0x0D // delete every template
	CmdReadSysParam  = 0x0F // system parameters
	CmdVerifyPasswd  = 0x13 // the handshake: the module's password
	CmdTemplateCount = 0x1D // how many templates are stored
)

// Confirmation codes (the first payload byte of an ack).
const (
	CodeOK             = 0x00
	CodePacketErr      = 0x01 // the sensor got a bad packet
	CodeNoFinger       = 0x02
	CodeImageFail      = 0x03
	CodeImageMessy     = 0x06
	CodeFeatureFail    = 0x07 // too few features
	CodeNoMatch        = 0x08
	CodeNotFound       = 0x09
	CodeEnrollMismatch = 0x0A // RegModel: buffers are not one finger
	CodeBadLocation    = 0x0B
	CodeDBRangeFail    = 0x0C
	CodeDeleteFail     = 0x10
	CodeDBClearFail    = 0x11
	CodeWrongPassword  = 0x13
	CodeInvalidImage   = 0x15
	CodeFlashErr       = 0x18
)

// DefaultAddress is the address every module ships with.
const DefaultAddress = 0xFFFFFFFF

const (
	headerLen  = 9      // EF 01, address 4, PID, length 2
	maxPayload = 256    // the largest packet size a module can be set to (and ReadSysParam's 17 fit)
	startCode  = 0xEF01 // every packet starts with it
)

// Packet is one packet on the wire.
type Packet struct {
	Address uint32
	PID     byte
	Payload []byte
}

// checksum is the low 16 bits of the sum of the PID, the two length bytes
// and the payload.
func checksum(pid byte, length int, payload []byte) uint16 {
	s := uint16(pid) + uint16(length>>8) + uint16(length&0xff)
	for _, b := range payload {
		s += uint16(b)
	}
	return s
}

// Marshal writes p as its bytes on the wire.
func (p Packet) Marshal() []byte {
	n := len(p.Payload) + 2
	b := make([]byte, 0, headerLen+n)
	b = binary.BigEndian.AppendUint16(b, startCode)
	b = binary.BigEndian.AppendUint32(b, p.Address)
	b = append(b, p.PID)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	b = append(b, p.Payload...)
	return binary.BigEndian.AppendUint16(b, checksum(p.PID, n, p.Payload))
}

// ErrChecksum is wrapped by the parser's error for a packet whose checksum
// does not add up.
var ErrChecksum = errors.New("fingerprint: bad checksum")

// ErrFrame is wrapped by the parser's error for bytes that are not a packet
// (a length out of range, an unknown packet ID).
var ErrFrame = errors.New("fingerprint: bad packet")

// Parser finds packets in a byte stream. Bytes before a start code are
// skipped (line noise, the 0x55 a module sends at power-up); a packet with
// a bad checksum or length is reported and skipped; a packet split over
// reads is put together.
type Parser struct {
	buf []byte
}

// Feed adds b and calls emit for every packet (or error) now complete.
func (p *Parser) Feed(b []byte, emit func(Packet, error)) {
	p.buf = append(p.buf, b...)
	for {
		i := indexStart(p.buf)
		if i < 0 {
			// Keep a trailing 0xEF: it may be the start of a start code.
			if n := len(p.buf); n > 0 && p.buf[n-1] == 0xEF {
				p.buf = append(p.buf[:0], 0xEF)
			} else {
				p.buf = p.buf[:0]
			}
			return
		}
		p.buf = p.buf[i:]
		if len(p.buf) < headerLen {
			return
		}
		pid := p.buf[6]
		n := int(binary.BigEndian.Uint16(p.buf[7:9]))
		if n < 2 || n > maxPayload+2 || !knownPID(pid) {
			emit(Packet{}, fmt.Errorf("%w: packet ID %#02x, length %d", ErrFrame, pid, n))
			p.buf = p.buf[2:] // skip this start code, look for the next
			continue
		}
		if len(p.buf) < headerLen+n {
			return
		}
		payload := p.buf[headerLen : headerLen+n-2]
		sum := binary.BigEndian.Uint16(p.buf[headerLen+n-2:])
		if want := checksum(pid, n, payload); sum != want {
			emit(Packet{}, fmt.Errorf("%w: %#04x, want %#04x", ErrChecksum, sum, want))
			p.buf = p.buf[headerLen+n:]
			continue
		}
		pk := Packet{Address: binary.BigEndian.Uint32(p.buf[2:6]), PID: pid, Payload: append([]byte(nil), payload...)}
		p.buf = p.buf[headerLen+n:]
		emit(pk, nil)
	}
}

func knownPID(pid byte) bool {
	return pid == PIDCommand || pid == PIDData || pid == PIDAck || pid == PIDEndData
}

func indexStart(b []byte) int {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == 0xEF && b[i+1] == 0x01 {
			return i
		}
	}
	return -1
}
