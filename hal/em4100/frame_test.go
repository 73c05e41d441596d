package em4100

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"timeclock/hal"
)

func parseAll(b []byte) (ids []ID, errs []error) {
	var p parser
	p.feed(b, func(id ID, err error) {
		if err != nil {
			errs = append(errs, err)
		} else {
			ids = append(ids, id)
		}
	})
	return ids, errs
}

func TestEncodeMatchesModuleOutput(t *testing.T) {
	// A frame as an RDM6300 sends it for card 0x62E3086CED:
	// 62^E3^08^6C^ED = 0x08.
	want := "\x02" + "62E3086CED" + "08" + "\x03"
	if got := string(Encode(ID{0x62, 0xE3, 0x08, 0x6C, 0xED})); got != want {
		t.Fatalf("Encode = %q, want %q", got, want)
	}
	ev := event(ID{0x62, 0xE3, 0x08, 0x6C, 0xED})
	// 0xE3086CED = 3808980205
	if ev.Number != "3808980205" || ev.Format != hal.FormatEM4100 || ev.Bits != 40 || !bytes.Equal(ev.Raw, []byte{0x62, 0xE3, 0x08, 0x6C, 0xED}) {
		t.Fatalf("event = %+v", ev)
	}
	if n := event(ID{1, 0, 0, 0x30, 0x39}).Number; n != "0000012345" {
		t.Fatalf("number %q: want 10 digits with leading zeros", n)
	}
	// Number is the printed 32-bit ID that rosters hold; the key is the
	// whole ID, so tags differing only in the version byte differ.
	a, b := event(ID{0x62, 0xE3, 0x08, 0x6C, 0xED}), event(ID{0x63, 0xE3, 0x08, 0x6C, 0xED})
	if a.Number != b.Number || a.Key() != "62E3086CED" || b.Key() != "63E3086CED" {
		t.Fatalf("tags 62E3086CED and 63E3086CED: numbers %s, %s, keys %s, %s", a.Number, b.Number, a.Key(), b.Key())
	}
}

func TestParser(t *testing.T) {
	card := ID{0x01, 0x02, 0x03, 0x04, 0x05}
	good := Encode(card)
	for _, tc := range []struct {
		name   string
		stream string
		ids    int
		errs   []string
	}{
		{"one", string(good), 1, nil},
		{"noise around", "\xff\x00junk" + string(good) + "\r\n", 1, nil},
		{"lowercase and CR LF", "\x02" + "0102030405" + "01\r\n\x03", 1, nil},
		{"repeated", strings.Repeat(string(good), 3), 3, nil},
		{"bad checksum", "\x02" + "0102030405" + "02\x03", 0, []string{"checksum 02, the data gives 01"}},
		{"short", "\x02" + "01020304" + "04\x03", 0, []string{"10 characters"}},
		{"not hex", "\x02" + "01020304ZZ" + "01\x03", 0, []string{"not hex"}},
		{"cut by STX", "\x02" + "0102" + string(good), 1, []string{"cut short"}},
		{"no ETX", "\x02" + strings.Repeat("0", 40) + string(good), 1, []string{"no ETX"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, errs := parseAll([]byte(tc.stream))
			if len(ids) != tc.ids || len(errs) != len(tc.errs) {
				t.Fatalf("%d cards, errors %v; want %d cards, %d errors", len(ids), errs, tc.ids, len(tc.errs))
			}
			for _, id := range ids {
				if id != card {
					t.Fatalf("card %x, want %x", id, card)
				}
			}
			for i, err := range errs {
				if !errors.Is(err, hal.ErrBadFrame) || !strings.Contains(err.Error(), tc.errs[i]) {
					t.Fatalf("error %v, want one saying %q", err, tc.errs[i])
				}
			}
		})
	}
}

func TestParserAcrossReads(t *testing.T) {
	var p parser
	var got []ID
	for _, c := range Encode(ID{9, 8, 7, 6, 5}) {
		p.feed([]byte{c}, func(id ID, err error) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, id)
		})
	}
	if len(got) != 1 || got[0] != (ID{9, 8, 7, 6, 5}) {
		t.Fatalf("byte by byte: %x", got)
	}
}

func FuzzFrames(f *testing.F) {
	f.Add(Encode(ID{1, 2, 3, 4, 5}), uint8(3))
	f.Add([]byte("\x02\x02\x03\x030102030405FF\x03"), uint8(0))
	f.Add([]byte("\x0201020304050\r\n1\x03"), uint8(7))
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		var p parser
		c := min(int(cut), len(b))
		for _, part := range [][]byte{b[:c], b[c:]} {
			p.feed(part, func(id ID, err error) {
				if err != nil {
					if !errors.Is(err, hal.ErrBadFrame) {
						t.Fatalf("error %v does not wrap hal.ErrBadFrame", err)
					}
					return
				}
				// A card that parses came as a frame with a good checksum.
				again, errs := parseAll(Encode(id))
				if len(errs) != 0 || len(again) != 1 || again[0] != id {
					t.Fatalf("card %x does not survive a round trip", id)
				}
			})
			if len(p.buf) > maxPayload {
				t.Fatalf("parser holds %d bytes", len(p.buf))
			}
		}
	})
}
