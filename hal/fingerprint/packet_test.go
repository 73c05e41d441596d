package fingerprint

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Golden packets, worked out by hand from the protocol description: start
// code EF01, address, PID, length = payload + 2, payload, checksum = sum of
// PID, the length bytes and the payload.
var golden = []struct {
	name string
	p    Packet
	wire string
}{
	{"GenImg", Packet{DefaultAddress, PIDCommand, []byte{CmdGenImg}}, "EF01 FFFFFFFF 01 0003 01 0005"},
	{"Img2Tz buffer 1", Packet{DefaultAddress, PIDCommand, []byte{CmdImg2Tz, 1}}, "EF01 FFFFFFFF 01 0004 0201 0008"},
	{"Img2Tz buffer 2", Packet{DefaultAddress, PIDCommand, []byte{CmdImg2Tz, 2}}, "EF01 FFFFFFFF 01 0004 0202 0009"},
	{"Match", Packet{DefaultAddress, PIDCommand, []byte{CmdMatch}}, "EF01 FFFFFFFF 01 0003 03 0007"},
	{"Search 1000", Packet{DefaultAddress, PIDCommand, []byte{CmdSearch, 1, 0, 0, 0x03, 0xE8}}, "EF01 FFFFFFFF 01 0008 04 01 0000 03E8 00F9"},
	{"RegModel", Packet{DefaultAddress, PIDCommand, []byte{CmdRegModel}}, "EF01 FFFFFFFF 01 0003 05 0009"},
	{"Store slot 7", Packet{DefaultAddress, PIDCommand, []byte{CmdStore, 1, 0, 7}}, "EF01 FFFFFFFF 01 0006 06 01 0007 0015"},
	{"Delete slot 300", Packet{DefaultAddress, PIDCommand, []byte{CmdDelete, 0x01, 0x2C, 0, 1}}, "EF01 FFFFFFFF 01 0007 0C 012C 0001 0042"},
	{"Empty", Packet{DefaultAddress, PIDCommand, []byte{CmdEmpty}}, "EF01 FFFFFFFF 01 0003 0D 0011"},
	{"ReadSysParam", Packet{DefaultAddress, PIDCommand, []byte{CmdReadSysParam}}, "EF01 FFFFFFFF 01 0003 0F 0013"},
	{"VerifyPassword 0", Packet{DefaultAddress, PIDCommand, []byte{CmdVerifyPasswd, 0, 0, 0, 0}}, "EF01 FFFFFFFF 01 0007 13 00000000 001B"},
	{"TemplateCount", Packet{DefaultAddress, PIDCommand, []byte{CmdTemplateCount}}, "EF01 FFFFFFFF 01 0003 1D 0021"},
	{"ack OK", Packet{DefaultAddress, PIDAck, []byte{CodeOK}}, "EF01 FFFFFFFF 07 0003 00 000A"},
	{"ack no finger", Packet{DefaultAddress, PIDAck, []byte{CodeNoFinger}}, "EF01 FFFFFFFF 07 0003 02 000C"},
	{"ack search found 5, score 100", Packet{DefaultAddress, PIDAck, []byte{CodeOK, 0, 5, 0, 100}}, "EF01 FFFFFFFF 07 0007 00 0005 0064 0077"},
	{"other address", Packet{0x12345678, PIDCommand, []byte{CmdGenImg}}, "EF01 12345678 01 0003 01 0005"},
}

func TestMarshalGolden(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			if got, want := g.p.Marshal(), unhex(t, g.wire); !bytes.Equal(got, want) {
				t.Errorf("Marshal = % X\nwant      % X", got, want)
			}
		})
	}
}

func parseAll(b []byte, chunk int) ([]Packet, []error) {
	var ps Parser
	var pkts []Packet
	var errs []error
	for len(b) > 0 {
		n := min(chunk, len(b))
		ps.Feed(b[:n], func(p Packet, err error) {
			if err != nil {
				errs = append(errs, err)
				return
			}
			pkts = append(pkts, p)
		})
		b = b[n:]
	}
	return pkts, errs
}

func TestParserGolden(t *testing.T) {
	for _, g := range golden {
		for _, chunk := range []int{1, 3, 64} {
			pkts, errs := parseAll(unhex(t, g.wire), chunk)
			if len(errs) != 0 || len(pkts) != 1 {
				t.Fatalf("%s (chunks of %d): packets %v errors %v", g.name, chunk, pkts, errs)
			}
			p := pkts[0]
			if p.Address != g.p.Address || p.PID != g.p.PID || !bytes.Equal(p.Payload, g.p.Payload) {
				t.Errorf("%s: parsed %+v, want %+v", g.name, p, g.p)
			}
		}
	}
}

func TestParserDamage(t *testing.T) {
	ok := "EF01 FFFFFFFF 07 0003 00 000A"
	tests := []struct {
		name     string
		wire     string
		packets  int
		checksum int
		frame    int
	}{
		{"noise before", "55 00 EF 12 " + ok, 1, 0, 0},
		{"bad checksum, then a good packet", "EF01 FFFFFFFF 07 0003 00 000B " + ok, 1, 1, 0},
		{"one payload bit flipped", "EF01 FFFFFFFF 07 0007 00 0005 0065 0077 " + ok, 1, 1, 0},
		{"length 1 (below the checksum's 2)", "EF01 FFFFFFFF 07 0001 " + ok, 1, 0, 1},
		{"length too long", "EF01 FFFFFFFF 07 FFFF " + ok, 1, 0, 1},
		{"unknown packet ID", "EF01 FFFFFFFF 05 0003 00 0008 " + ok, 1, 0, 1},
		{"truncated: waits for the rest", "EF01 FFFFFFFF 07 0003 00", 0, 0, 0},
		{"a trailing EF kept for the next read", ok + " EF", 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkts, errs := parseAll(unhex(t, tt.wire), 5)
			var cs, fr int
			for _, err := range errs {
				switch {
				case errors.Is(err, ErrChecksum):
					cs++
				case errors.Is(err, ErrFrame):
					fr++
				default:
					t.Errorf("error %v wraps neither ErrChecksum nor ErrFrame", err)
				}
			}
			if len(pkts) != tt.packets || cs != tt.checksum || fr != tt.frame {
				t.Errorf("packets %d, checksum errors %d, frame errors %d; want %d, %d, %d (%v)", len(pkts), cs, fr, tt.packets, tt.checksum, tt.frame, errs)
			}
			for _, p := range pkts {
				if p.PID != PIDAck || !bytes.Equal(p.Payload, []byte{CodeOK}) {
					t.Errorf("parsed %+v, want the good ack", p)
				}
			}
		})
	}
}

// FuzzParser: any bytes, split anywhere, never panic; every packet parsed
// marshals back to bytes found in the input (so its checksum held), and
// the packets do not depend on how the bytes were split into reads.
func FuzzParser(f *testing.F) {
	for _, g := range golden {
		f.Add(unhex(f, g.wire), uint8(1))
	}
	f.Add(unhex(f, "EF01 FFFFFFFF 07 0003 00 000B EF01 FFFFFFFF 07 0003 00 000A"), uint8(4))
	f.Add([]byte{0xEF, 0x01, 0xEF, 0x01, 0xFF}, uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8) {
		whole, _ := parseAll(b, len(b)+1)
		split, _ := parseAll(b, int(chunk%16)+1)
		if len(whole) != len(split) {
			t.Fatalf("%d packets whole, %d split", len(whole), len(split))
		}
		for i, p := range whole {
			if len(p.Payload) > maxPayload {
				t.Fatalf("payload of %d bytes", len(p.Payload))
			}
			if !bytes.Contains(b, p.Marshal()) {
				t.Fatalf("packet %+v is not in the input", p)
			}
			q := split[i]
			if q.Address != p.Address || q.PID != p.PID || !bytes.Equal(q.Payload, p.Payload) {
				t.Fatalf("split parse %+v, whole %+v", q, p)
			}
		}
	})
}
