package journal

import (
	"encoding/hex"
	"reflect"
	"testing"
	"time"

	"timeclock/clock"
)

// The record encoding is what state files on clocks hold: a punch with every
// flag set encodes to the bytes it always has (the flag bits of "clock set"
// and "acked" kept their values when the names changed), and reads back.
func TestRecordEncodingIsStable(t *testing.T) {
	p := Punch{Seq: 7, Employee: "E1", Name: "Ada", Kind: KindOut, Department: "D", Time: time.UnixMilli(1764000000123).UTC(), TZ: "UTC",
		ClockSet: true, Corrected: true, BootID: "boot", SinceBoot: time.Hour, State: StateAcked, AckedAt: time.UnixMilli(1764000001000).UTC(),
		Source: clock.SourceCloud, OriginalTime: time.UnixMilli(300000).UTC()}
	const golden = "01fa07f6a1bfe9d66600035554430245310341646100014404626f6f7480dddb01d0afbfe9d66602c0cf24"
	b, err := encode(p)
	if err != nil || hex.EncodeToString(b) != golden {
		t.Fatalf("encoded %x, %v; want %s", b, err, golden)
	}
	back, err := decode(b)
	if err != nil || !reflect.DeepEqual(back, p) {
		t.Fatalf("decoded %+v, %v; want %+v", back, err, p)
	}
}

// A fingerprint punch adds one section at the end: 'f' and the match
// score; the same punch not by finger encodes exactly as before.
func TestRecordFingerSection(t *testing.T) {
	p := Punch{Seq: 7, Employee: "E1", Name: "Ada", Kind: KindOut, Department: "D", Time: time.UnixMilli(1764000000123).UTC(), TZ: "UTC",
		ClockSet: true, Corrected: true, BootID: "boot", SinceBoot: time.Hour, State: StateAcked, AckedAt: time.UnixMilli(1764000001000).UTC(),
		Source: clock.SourceCloud, OriginalTime: time.UnixMilli(300000).UTC(), Finger: true, MatchScore: 150}
	const golden = "01fa07f6a1bfe9d66600035554430245310341646100014404626f6f7480dddb01d0afbfe9d66602c0cf24" + "66" + "9601"
	b, err := encode(p)
	if err != nil || hex.EncodeToString(b) != golden {
		t.Fatalf("encoded %x, %v; want %s", b, err, golden)
	}
	back, err := decode(b)
	if err != nil || !reflect.DeepEqual(back, p) {
		t.Fatalf("decoded %+v, %v; want %+v", back, err, p)
	}
	for _, bad := range []string{golden[:len(golden)-4], golden[:len(golden)-6] + "67" + "9601", golden[:len(golden)-4] + "ffff04", golden + "00"} {
		b, _ := hex.DecodeString(bad)
		if _, err := decode(b); err == nil {
			t.Errorf("decoded damaged record %s", bad)
		}
	}
}

// Records written before the time sources (no flag bit 7) read as they
// always did; their source is what "clock set" meant then.
func TestRecordBeforeTimeSources(t *testing.T) {
	const old = "017a07f6a1bfe9d66600035554430245310341646100014404626f6f7480dddb01d0afbfe9d666"
	want := Punch{Seq: 7, Employee: "E1", Name: "Ada", Kind: KindOut, Department: "D", Time: time.UnixMilli(1764000000123).UTC(), TZ: "UTC",
		ClockSet: true, Corrected: true, BootID: "boot", SinceBoot: time.Hour, State: StateAcked, AckedAt: time.UnixMilli(1764000001000).UTC(),
		Source: clock.SourceRTC}
	b, _ := hex.DecodeString(old)
	got, err := decode(b)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, want)
	}
	b[1] &^= flagClockSet
	if got, err := decode(b); err != nil || got.Source != clock.SourceUnset {
		t.Fatalf("without clock set: source %q, %v; want unset", got.Source, err)
	}
	for _, bad := range []string{
		"01fa07f6a1bfe9d66600035554430245310341646100014404626f6f7480dddb01d0afbfe9d666",         // bit 7, no source byte
		"01fa07f6a1bfe9d66600035554430245310341646100014404626f6f7480dddb01d0afbfe9d66609c0cf24", // source 9
		"01fa07f6a1bfe9d66600035554430245310341646100014404626f6f7480dddb01d0afbfe9d66602",       // corrected, no original time
	} {
		b, _ := hex.DecodeString(bad)
		if _, err := decode(b); err == nil {
			t.Errorf("decoded damaged record %s", bad)
		}
	}
}
