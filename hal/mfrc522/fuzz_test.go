package mfrc522

import (
	"errors"
	"strconv"
	"testing"

	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/devices/v3/mfrc522/commands"

	"timeclock/hal"
	"timeclock/hal/mfrc522/mfrc522test"
)

// FuzzCardReplies: whatever a card (or noise) answers to REQA,
// anticollision and select, reading a UID never panics and ends in a UID
// of 4 or 7 bytes whose badge number is its decimal value, "no card", or
// an error wrapping hal.ErrBadFrame (or the bus's own error).
//
// The fuzz data is the answers in order: per transceive a header byte (low
// 4 bits the length, 0 for no answer; bits 4-6 the valid bits of the last
// byte) and that many bytes.
func FuzzCardReplies(f *testing.F) {
	crc := func(b ...byte) []byte { // ISO 14443A CRC, low byte first
		c := uint16(0x6363)
		for _, x := range b {
			x ^= byte(c)
			x ^= x << 4
			c = c>>8 ^ uint16(x)<<8 ^ uint16(x)<<3 ^ uint16(x)>>4
		}
		return []byte{byte(c), byte(c >> 8)}
	}
	ans := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, byte(len(p)))
			out = append(out, p...)
		}
		return out
	}
	// A good 4-byte read; a 7-byte one; a bad BCC; a short SAK; nothing.
	f.Add(ans([]byte{0x04, 0x00}, []byte{0x04, 0xA2, 0xB3, 0xC4, 0x04 ^ 0xA2 ^ 0xB3 ^ 0xC4}, append([]byte{0x08}, crc(0x08)...)))
	f.Add(ans([]byte{0x44, 0x00}, []byte{0x88, 1, 2, 3, 0x88 ^ 1 ^ 2 ^ 3}, append([]byte{0x04}, crc(0x04)...), []byte{4, 5, 6, 7, 4 ^ 5 ^ 6 ^ 7}))
	f.Add(ans([]byte{0x04, 0x00}, []byte{1, 2, 3, 4, 0}))
	f.Add(ans([]byte{0x04, 0x00}, []byte{1, 2, 3, 4, 4}, []byte{0x08}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		uid, err := readScripted(t, data)
		switch {
		case err == nil:
			if len(uid) != 4 && len(uid) != 7 {
				t.Fatalf("a UID of %d bytes: % x", len(uid), uid)
			}
			ev := event(uid)
			n, perr := strconv.ParseUint(ev.Number, 10, 64)
			if perr != nil || ev.Bits != 8*len(uid) {
				t.Fatalf("badge %+v of UID % x", ev, uid)
			}
			var want uint64
			for _, b := range uid {
				want = want<<8 | uint64(b)
			}
			if n != want {
				t.Fatalf("badge number %d, want %d", n, want)
			}
		case errors.Is(err, errNoCard), errors.Is(err, hal.ErrBadFrame):
		default:
			var re *ReadError
			if errors.As(err, &re) {
				t.Fatalf("a ReadError that is not a bad frame: %v", err)
			}
		}
	})
}

// readScripted reads one UID from a chip whose card answers are data
// (FuzzCardReplies' format).
func readScripted(t *testing.T, data []byte) ([]byte, error) {
	t.Helper()
	chip := mfrc522test.New()
	chip.Script(func([]byte, int) ([]byte, byte) {
		if len(data) == 0 {
			return nil, 0
		}
		h := data[0]
		data = data[1:]
		n := min(int(h&0x0F), len(data))
		if n == 0 {
			return nil, 0
		}
		a := data[:n]
		data = data[n:]
		return a, h >> 4 & 0x07
	})
	ll, err := commands.NewLowLevelSPI(chip, &gpiotest.Pin{N: "GPIO25"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ll.Init(); err != nil {
		t.Fatal(err)
	}
	return (&Dev{ll: ll}).readUID()
}

// TestScriptedReads: the fuzzer's harness reads what a card would say.
func TestScriptedReads(t *testing.T) {
	bcc := func(b ...byte) byte { return b[0] ^ b[1] ^ b[2] ^ b[3] }
	sak := []byte{3, 0x08, 0xB6, 0x4E} // SAK 08 and its CRC
	uid, err := readScripted(t, append([]byte{2, 0x04, 0x00, 5, 0x04, 0xA2, 0xB3, 0xC4, bcc(0x04, 0xA2, 0xB3, 0xC4)}, sak...))
	if err != nil || event(uid).Number != "77771716" {
		t.Fatalf("4-byte read: % x, %v", uid, err)
	}
	if _, err := readScripted(t, []byte{2, 0x04, 0x00, 5, 1, 2, 3, 4, 0}); !errors.Is(err, hal.ErrBadFrame) {
		t.Fatalf("bad BCC: %v", err)
	}
	if _, err := readScripted(t, nil); !errors.Is(err, errNoCard) {
		t.Fatalf("nothing: %v", err)
	}
}
