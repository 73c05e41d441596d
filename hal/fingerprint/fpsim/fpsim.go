// Package fpsim is a simulated fingerprint module: it speaks the R307 /
// AS608 protocol of package fingerprint over any byte stream (a pty, so
// the real driver opens it as a serial port), keeps its "templates" in
// memory, and lets tests and the sim board place fingers and inject the
// faults a real module shows: no finger seen, no match, a bad checksum,
// slow replies, no replies at all.
//
// A simulated finger is a name. Placing finger "E100" three times during
// an enrollment stores a template of "E100" in a slot; placing "E100"
// again later matches that slot. The sim board's `finger ID` does this.
package fpsim

import (
	"encoding/binary"

	"io"
	"sync"
	"time"

	fp "timeclock/hal/fingerprint"
)

// DefaultSlots is the simulated library size (an R307's).
const DefaultSlots = 1000

// DefaultScore is the confidence a match reports.
const DefaultScore = 150

// Sensor is one simulated module. Its methods are safe to call while
// Serve runs.
type Sensor struct {
	mu       sync.Mutex
	address  uint32
	password uint32
	slots    int
	score    int
	lib      map[int]string // slot -> finger
	placed   string         // the finger on the glass; "" none
	hold     bool           // placed stays after an image (else it is one touch)
	image    string         // the last image's finger
	gap      bool           // the next image sees no finger: a new touch lifted the last one
	buf      [3]string      // char buffers 1 and 2 (index 0 unused)
	model    bool           // buffers 1 and 2 hold a template (RegModel)

	noFinger bool          // every image sees no finger
	noMatch  bool          // searches and matches never match
	corrupt  int           // the next N replies get a bad checksum
	delay    time.Duration // before every reply
	mute     bool          // no replies at all
	commands []byte        // every command received, in order
	changed  chan struct{} // closed and replaced on every command
}

// New is a module with the factory address and password and an empty
// library of DefaultSlots.
func New() *Sensor {
	return &Sensor{address: fp.DefaultAddress, slots: DefaultSlots, score: DefaultScore, lib: map[int]string{}, changed: make(chan struct{})}
}

// Place puts finger on the sensor for one image (a touch): the image after
// it sees no finger. A touch lifts the finger before it: when the last
// image saw one, the next sees none.
func (s *Sensor) Place(finger string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.placed, s.hold, s.gap = finger, false, s.image != ""
}

// Hold puts finger on the sensor until Lift.
func (s *Sensor) Hold(finger string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.placed, s.hold = finger, true
}

// Lift takes the finger off.
func (s *Sensor) Lift() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.placed, s.hold = "", false
}

// Placed reports whether a finger is waiting on the sensor.
func (s *Sensor) Placed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.placed != ""
}

// Faults sets the injected faults: images see no finger, nothing matches,
// replies are late by delay, no reply at all (mute).
func (s *Sensor) Faults(noFinger, noMatch bool, delay time.Duration, mute bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noFinger, s.noMatch, s.delay, s.mute = noFinger, noMatch, delay, mute
}

// CorruptNext gives the next n replies a bad checksum.
func (s *Sensor) CorruptNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt = n
}

// SetPassword changes the module's password.
func (s *Sensor) SetPassword(pw uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.password = pw
}

// Enrolled returns the slots holding finger's template.
func (s *Sensor) Enrolled(finger string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for i := 0; i < s.slots; i++ {
		if s.lib[i] == finger {
			out = append(out, i)
		}
	}
	return out
}

// Templates is how many templates the library holds.
func (s *Sensor) Templates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.lib)
}

// Commands returns the command bytes received so far.
func (s *Sensor) Commands() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.commands...)
}

// Changed returns a channel closed at the next command.
func (s *Sensor) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Serve answers the commands read from rw until a read fails, returning
// that error (io.EOF at the end of a pipe).
func (s *Sensor) Serve(rw io.ReadWriter) error {
	var ps fp.Parser
	buf := make([]byte, 256)
	for {
		n, err := rw.Read(buf)
		var werr error
		ps.Feed(buf[:n], func(p fp.Packet, perr error) {
			if werr != nil {
				return
			}
			out, ok, delay := s.answer(p, perr)
			if !ok {
				return
			}
			if delay > 0 {
				time.Sleep(delay) // a slow module: the reply is late on the wire
			}
			_, werr = rw.Write(out)
		})
		if werr != nil {
			return werr
		}
		if err != nil {
			return err
		}
	}
}

// answer is the reply to one packet: its bytes, whether to send them, and
// how late.
func (s *Sensor) answer(p fp.Packet, perr error) ([]byte, bool, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mute {
		return nil, false, 0
	}
	var payload []byte
	switch {
	case perr != nil || p.PID != fp.PIDCommand || len(p.Payload) == 0:
		payload = []byte{fp.CodePacketErr}
	case p.Address != s.address:
		return nil, false, 0 // not for this module
	default:
		s.commands = append(s.commands, p.Payload[0])
		close(s.changed)
		s.changed = make(chan struct{})
		payload = s.command(p.Payload)
	}
	out := fp.Packet{Address: s.address, PID: fp.PIDAck, Payload: payload}.Marshal()
	if s.corrupt > 0 {
		s.corrupt--
		out[len(out)-1] ^= 0x5A
	}
	return out, true, s.delay
}

// command runs one command on the simulated module.
func (s *Sensor) command(c []byte) []byte {
	code := func(b byte) []byte { return []byte{b} }
	args := c[1:]
	u16 := func(i int) int { return int(binary.BigEndian.Uint16(args[i:])) }
	switch c[0] {
	case fp.CmdVerifyPasswd:
		if len(args) != 4 {
			return code(fp.CodePacketErr)
		}
		if binary.BigEndian.Uint32(args) != s.password {
			return code(fp.CodeWrongPassword)
		}
		return code(fp.CodeOK)
	case fp.CmdReadSysParam:
		r := make([]byte, 17)
		binary.BigEndian.PutUint16(r[5:], uint16(s.slots)) // status 0, system ID 0, then library size
		binary.BigEndian.PutUint16(r[7:], 3)               // security level
		binary.BigEndian.PutUint32(r[9:], s.address)
		binary.BigEndian.PutUint16(r[13:], 2) // 128-byte packets
		binary.BigEndian.PutUint16(r[15:], 6) // 57600 baud
		return r
	case fp.CmdGenImg:
		if s.placed == "" || s.noFinger || s.gap {
			s.gap = false
			s.image = ""
			return code(fp.CodeNoFinger)
		}
		s.image = s.placed
		if !s.hold {
			s.placed = ""
		}
		return code(fp.CodeOK)
	case fp.CmdImg2Tz:
		if len(args) != 1 || (args[0] != 1 && args[0] != 2) {
			return code(fp.CodePacketErr)
		}
		if s.image == "" {
			return code(fp.CodeInvalidImage)
		}
		s.buf[args[0]] = s.image
		s.model = false
		return code(fp.CodeOK)
	case fp.CmdRegModel:
		if s.buf[1] == "" || s.buf[1] != s.buf[2] {
			return code(fp.CodeEnrollMismatch)
		}
		s.model = true
		return code(fp.CodeOK)
	case fp.CmdMatch:
		if s.noMatch || s.buf[1] == "" || s.buf[1] != s.buf[2] {
			return []byte{fp.CodeNoMatch, 0, 0}
		}
		return []byte{fp.CodeOK, byte(s.score >> 8), byte(s.score)}
	case fp.CmdSearch:
		if len(args) != 5 || (args[0] != 1 && args[0] != 2) {
			return code(fp.CodePacketErr)
		}
		finger, start, n := s.buf[args[0]], u16(1), u16(3)
		if finger == "" || s.noMatch {
			return []byte{fp.CodeNotFound, 0, 0, 0, 0}
		}
		for i := start; i < start+n && i < s.slots; i++ {
			if s.lib[i] == finger {
				return []byte{fp.CodeOK, byte(i >> 8), byte(i), byte(s.score >> 8), byte(s.score)}
			}
		}
		return []byte{fp.CodeNotFound, 0, 0, 0, 0}
	case fp.CmdStore:
		if len(args) != 3 || (args[0] != 1 && args[0] != 2) {
			return code(fp.CodePacketErr)
		}
		page := u16(1)
		if page >= s.slots {
			return code(fp.CodeBadLocation)
		}
		if s.buf[args[0]] == "" {
			return code(fp.CodeInvalidImage)
		}
		s.lib[page] = s.buf[args[0]]
		return code(fp.CodeOK)
	case fp.CmdDelete:
		if len(args) != 4 {
			return code(fp.CodePacketErr)
		}
		page, n := u16(0), u16(2)
		if page+n > s.slots || n == 0 {
			return code(fp.CodeDeleteFail)
		}
		for i := page; i < page+n; i++ {
			delete(s.lib, i)
		}
		return code(fp.CodeOK)
	case fp.CmdEmpty:
		clear(s.lib)
		return code(fp.CodeOK)
	case fp.CmdTemplateCount:
		return []byte{fp.CodeOK, byte(len(s.lib) >> 8), byte(len(s.lib))}
	}
	return code(fp.CodePacketErr)
}
