package journal

import (
	"encoding/hex"
	"reflect"
	"testing"
	"time"
)

// The record encoding is what state files on clocks hold: a punch with every
// flag set encodes to the bytes it always has (the flag bits of "clock set"
// and "acked" kept their values when the names changed), and reads back.
func TestRecordEncodingIsStable(t *testing.T) {
	p := Punch{Seq: 7, Employee: "E1", Name: "Ada", Kind: KindOut, Department: "D", Time: time.UnixMilli(1764000000123).UTC(), TZ: "UTC",
		ClockSet: true, Corrected: true, BootID: "boot", SinceBoot: time.Hour, State: StateAcked, AckedAt: time.UnixMilli(1764000001000).UTC()}
	const golden = "017a07f6a1bfe9d66600035554430245310341646100014404626f6f7480dddb01d0afbfe9d666"
	b, err := encode(p)
	if err != nil || hex.EncodeToString(b) != golden {
		t.Fatalf("encoded %x, %v; want %s", b, err, golden)
	}
	back, err := decode(b)
	if err != nil || !reflect.DeepEqual(back, p) {
		t.Fatalf("decoded %+v, %v; want %+v", back, err, p)
	}
}
