package wiegand

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"timeclock/hal"
)

func bitsOf(s string) []uint8 {
	var b []uint8
	for _, c := range s {
		if c == '0' || c == '1' {
			b = append(b, uint8(c-'0'))
		}
	}
	return b
}

func TestDecodeKnownFrames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frame  string
		format hal.BadgeFormat
		fc     uint32
		number string
	}{
		// H10301 facility 1, card 1: a frame printed in reader manuals.
		{"26 fc1 card1", "1 00000001 0000000000000001 0", hal.FormatWiegand26, 1, "1"},
		// facility 123, card 45678 (0x7B, 0xB26E): even parity over
		// 0111 1011 1011 (9 ones -> 1), odd over 0010 0110 1110 (6 ones -> 1).
		{"26 fc123 card45678", "1 01111011 1011001001101110 1", hal.FormatWiegand26, 123, "45678"},
		{"34 max", "0 1111111111111111 1111111111111111 1", hal.FormatWiegand34, 65535, "65535"},
		{"37 zero", "0 0000000000000000 0000000000000000000 1", hal.FormatWiegand37, 0, "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := Decode(bitsOf(tc.frame))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Format != tc.format || ev.Facility != tc.fc || ev.Number != tc.number || ev.Bits != len(bitsOf(tc.frame)) {
				t.Fatalf("Decode = %+v", ev)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := Encode(26, 7, 4242)
	flip := func(i int) []uint8 { f := slices.Clone(good); f[i] ^= 1; return f }
	for _, tc := range []struct {
		name  string
		frame []uint8
		want  string
	}{
		{"empty", nil, "length"},
		{"noise", []uint8{1}, "length"},
		{"25 bits", good[:25], "length"},
		{"even parity", flip(0), "even parity"},
		{"data bit under even parity", flip(3), "even parity"},
		{"data bit under odd parity", flip(20), "odd parity"},
		{"odd parity", flip(25), "odd parity"},
		{"not a bit", append(slices.Clone(good[:25]), 2), "bit 25"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.frame)
			var fe *FrameError
			if !errors.As(err, &fe) || !errors.Is(err, hal.ErrBadFrame) {
				t.Fatalf("Decode = %v, want a FrameError wrapping hal.ErrBadFrame", err)
			}
			if fe.Bits != len(tc.frame) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q (bits %d), want it to say %q", err, fe.Bits, tc.want)
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		bits int
		fc   uint32
		cn   uint64
	}{{26, 255, 65535}, {26, 0, 0}, {34, 65535, 1}, {37, 65535, 524287}, {37, 1, 2}} {
		f, err := Encode(tc.bits, tc.fc, tc.cn)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := Decode(f)
		if err != nil || ev.Facility != tc.fc || ev.Number != strconv.FormatUint(tc.cn, 10) {
			t.Fatalf("%+v: Decode(Encode) = %+v, %v", tc, ev, err)
		}
	}
	if _, err := Encode(26, 256, 1); err == nil {
		t.Fatal("Encode accepted facility 256 in 26 bits")
	}
}

func FuzzDecode(f *testing.F) {
	for _, n := range []int{26, 34, 37} {
		fr, _ := Encode(n, 5, 99)
		f.Add(fr)
	}
	f.Add([]byte{1, 0, 1})
	f.Add(make([]byte, 26))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := Decode(b)
		if err != nil {
			if !errors.Is(err, hal.ErrBadFrame) {
				t.Fatalf("error %v does not wrap hal.ErrBadFrame", err)
			}
			return
		}
		// A frame that decodes re-encodes to itself: nothing was guessed.
		var cn uint64
		for _, c := range ev.Number {
			cn = cn*10 + uint64(c-'0')
		}
		again, err := Encode(ev.Bits, ev.Facility, cn)
		if err != nil || !slices.Equal(again, b) {
			t.Fatalf("Decode(%v) = %+v, which encodes to %v, %v", b, ev, again, err)
		}
	})
}
