package journal

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/store"
	"timeclock/clock"
)

// goldenPunch has every flag set.
var goldenPunch = Punch{Seq: 7, Employee: "E1", Name: "Ada", Kind: KindOut, Department: "D", Time: time.UnixMilli(1764000000123).UTC(), TZ: "UTC",
	ClockSet: true, Corrected: true, BootID: "boot", SinceBoot: time.Hour, State: StateAcked, AckedAt: time.UnixMilli(1764000001000).UTC(),
	Source: clock.SourceCloud, OriginalTime: time.UnixMilli(300000).UTC()}

const (
	// goldenV1 is goldenPunch as version 1 wrote it (the records on
	// clocks before the checksum): fields only.
	goldenV1 = "01fa07f6a1bfe9d66600035554430245310341646100014404626f6f7480dddb01d0afbfe9d66602c0cf24"
	// goldenV2 is the same punch as version 2 writes it: the version
	// byte 02, the same fields, no section, then the CRC-32C.
	goldenV2 = "02fa07f6a1bfe9d66600035554430245310341646100014404626f6f7480dddb01d0afbfe9d66602c0cf24" + "080dbf8e"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withCRC is body (a version 2 record without its checksum) sealed with it.
func withCRC(body []byte) []byte {
	return binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, crcTable))
}

// The record encoding is what state files on clocks hold: a punch with every
// flag set encodes to the bytes it always has (the flag bits of "clock set"
// and "acked" kept their values when the names changed), and reads back;
// the same punch as version 1 wrote it reads back the same.
func TestRecordEncodingIsStable(t *testing.T) {
	p := goldenPunch
	b, err := encode(p)
	if err != nil || hex.EncodeToString(b) != goldenV2 {
		t.Fatalf("encoded %x, %v; want %s", b, err, goldenV2)
	}
	for _, g := range []string{goldenV2, goldenV1} {
		back, err := decode(unhex(t, g))
		if err != nil || !reflect.DeepEqual(back, p) {
			t.Fatalf("decoded %s as %+v, %v; want %+v", g, back, err, p)
		}
	}
}

// A fingerprint punch adds one section: 'f', its length and the match
// score; the same punch not by finger has no section. Version 1 wrote the
// score as trailing bytes without a length, which still read.
func TestRecordFingerSection(t *testing.T) {
	p := goldenPunch
	p.Finger, p.MatchScore = true, 150
	const body = "02fa07f6a1bfe9d66600035554430245310341646100014404626f6f7480dddb01d0afbfe9d66602c0cf24"
	const golden = body + "66" + "02" + "9601" + "02949c67"
	b, err := encode(p)
	if err != nil || hex.EncodeToString(b) != golden {
		t.Fatalf("encoded %x, %v; want %s", b, err, golden)
	}
	for _, g := range []string{golden, goldenV1 + "66" + "9601"} {
		back, err := decode(unhex(t, g))
		if err != nil || !reflect.DeepEqual(back, p) {
			t.Fatalf("decoded %s as %+v, %v; want %+v", g, back, err, p)
		}
	}
	for _, bad := range []string{goldenV1 + "66", goldenV1 + "67" + "9601", goldenV1 + "66" + "ffff04", goldenV1 + "66" + "9601" + "00"} {
		if _, err := decode(unhex(t, bad)); err == nil {
			t.Errorf("decoded damaged version 1 record %s", bad)
		}
	}
	for _, bad := range []string{
		body + "66" + "01" + "9601",          // the length cuts the score
		body + "66" + "03" + "960100",        // a byte after the score
		body + "66" + "03" + "ffff04",        // score out of range
		body + "66" + "05" + "9601",          // length past the end
		body + "66" + "0196" + "66" + "0101", // twice
	} {
		if _, err := decode(withCRC(unhex(t, bad))); err == nil {
			t.Errorf("decoded bad section %s", bad)
		}
	}
}

// Sections a later version adds: a tag below 0x80 that this version does
// not know is skipped (the punch reads as the fields it knows), one from
// 0x80 up is refused; tags come in ascending order.
func TestRecordSections(t *testing.T) {
	body := strings.TrimSuffix(goldenV2, "080dbf8e")
	for _, c := range []struct {
		sections string
		ok       bool
		finger   bool
	}{
		{"", true, false},
		{"67" + "00", true, false},                      // empty, unknown
		{"70" + "03" + "616263", true, false},           // unknown, 3 bytes
		{"01" + "01" + "ff" + "7f" + "00", true, false}, // two unknown
		{"66" + "01" + "05" + "70" + "02" + "0000", true, true},
		{"10" + "01" + "00" + "66" + "01" + "05", true, true},
		{"80" + "00", false, false}, // must understand
		{"66" + "01" + "05" + "c3" + "01" + "00", false, false},
		{"70" + "00" + "67" + "00", false, false},     // out of order
		{"70" + "00" + "70" + "00", false, false},     // twice
		{"70" + "04" + "616263", false, false},        // past the end
		{"70", false, false},                          // no length
		{"70" + "ffffffffffffffffff01", false, false}, // length overflows
	} {
		p, err := decode(withCRC(unhex(t, body+c.sections)))
		if c.ok != (err == nil) {
			t.Errorf("sections %s: %v, want ok %v", c.sections, err, c.ok)
			continue
		}
		if !c.ok {
			continue
		}
		want := goldenPunch
		if c.finger {
			want.Finger, want.MatchScore = true, 5
		}
		p.sections = "" // the unknown ones, kept for a rewrite (below)
		if p != want {
			t.Errorf("sections %s: read %+v, want %+v", c.sections, p, want)
		}
		// The open-time check agrees.
		if _, err := checkRecord(withCRC(unhex(t, body+c.sections))); err != nil {
			t.Errorf("sections %s: check: %v", c.sections, err)
		}
	}
}

// Issue 14's "bit flips anywhere": every single-bit flip and every byte
// change of a version 2 record is refused, never read as a changed punch
// (the open-time check then sets the file aside and salvages the rest).
func TestRecordChecksumCatchesEveryChange(t *testing.T) {
	p := goldenPunch
	p.Finger, p.MatchScore = true, 150
	rec, err := encode(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rec {
		for v := range 256 {
			if byte(v) == rec[i] {
				continue
			}
			b := append([]byte(nil), rec...)
			b[i] = byte(v)
			if got, err := decode(b); err == nil {
				t.Fatalf("byte %d set to %#x: read as %+v", i, v, got)
			}
			if _, err := checkRecord(b); err == nil {
				t.Fatalf("byte %d set to %#x: the open check passes it", i, v)
			}
		}
	}
	for n := range len(rec) {
		if _, err := decode(rec[:n]); err == nil {
			t.Fatalf("cut to %d bytes: read", n)
		}
	}
	if _, err := decode(append(rec, 0)); err == nil {
		t.Fatal("a byte appended: read")
	}
}

// Records written before the time sources (no flag bit 7) read as they
// always did; their source is what "clock set" meant then.
func TestRecordBeforeTimeSources(t *testing.T) {
	const old = "017a07f6a1bfe9d66600035554430245310341646100014404626f6f7480dddb01d0afbfe9d666"
	want := goldenPunch
	want.Source, want.OriginalTime = clock.SourceRTC, time.Time{}
	b := unhex(t, old)
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
		if _, err := decode(unhex(t, bad)); err == nil {
			t.Errorf("decoded damaged record %s", bad)
		}
	}
	// Version 2 always has the source: without bit 7 it is damage.
	if _, err := decode(withCRC(unhex(t, "027a07f6a1bfe9d66600035554430245310341646100014404626f6f7480dddb01d0afbfe9d666"))); err == nil {
		t.Error("decoded a version 2 record without a time source")
	}
}

// A rewrite (an ack, a clock correction) keeps the sections this version
// does not know, in their place among the ones it writes: a version
// rolled back to does not strip what the newer one wrote.
func TestRecordRewriteKeepsUnknownSections(t *testing.T) {
	body := strings.TrimSuffix(goldenV2, "080dbf8e")
	for _, secs := range []string{
		"10" + "01" + "aa" + "66" + "01" + "05" + "70" + "02" + "bbcc",
		"10" + "00" + "70" + "02" + "bbcc",
		"67" + "03" + "010203",
		"66" + "01" + "05",
	} {
		rec := withCRC(unhex(t, body+secs))
		p, err := decode(rec)
		if err != nil {
			t.Fatalf("%s: %v", secs, err)
		}
		again, err := encode(p)
		if err != nil || !bytes.Equal(again, rec) {
			t.Errorf("%s: rewritten as %x, %v; want %x", secs, again, err, rec)
		}
		// As a clock correction and an ack do: other fields change,
		// the sections stay.
		p.Time = p.Time.Add(time.Hour)
		p.AckedAt = p.AckedAt.Add(time.Minute)
		p.Finger, p.MatchScore = true, 7
		b, err := encode(p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decode(b)
		if err != nil || back != p {
			t.Errorf("%s: changed and rewritten: %+v, %v; want %+v", secs, back, err, p)
		}
		for _, s := range []string{"1001aa", "7002bbcc", "6703010203"} {
			if strings.Contains(secs, s) && !strings.Contains(hex.EncodeToString(b), s) {
				t.Errorf("%s: section %s lost in the rewrite %x", secs, s, b)
			}
		}
	}
}

// The same through the journal: a punch a later version wrote with a
// section this version does not know keeps it when this version corrects
// its time and acks it.
func TestJournalKeepsUnknownSections(t *testing.T) {
	st, j := openJournal(t, t.TempDir(), Options{})
	const boot = "boot-A"
	p, err := j.Append(Punch{Employee: "E1", Kind: KindIn, Time: time.UnixMilli(5000).UTC(), Source: clock.SourceUnset, BootID: boot, SinceBoot: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	const later = "7003616263" // tag 0x70, 3 bytes
	k := seqKey(p.Seq)
	err = st.DB().Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(store.BucketPunchesPending)
		rec := b.Get(k)
		return b.Put(k, withCRC(append(bytes.Clone(rec[:len(rec)-crcSize]), unhex(t, later)...)))
	})
	if err != nil {
		t.Fatal(err)
	}
	raw := func(bucket []byte) string {
		var s string
		st.DB().View(func(tx *bolt.Tx) error {
			s = hex.EncodeToString(tx.Bucket(bucket).Get(k))
			return nil
		})
		return s
	}
	if n, err := j.CorrectClock(boot, t0, 10*time.Second); err != nil || n != 1 {
		t.Fatalf("CorrectClock = %d, %v", n, err)
	}
	if r := raw(store.BucketPunchesPending); !strings.Contains(r, later) {
		t.Fatalf("corrected record %s lost the section %s", r, later)
	}
	if n, err := j.MarkAcked([]ID{p.ID}, t0); err != nil || n != 1 {
		t.Fatalf("MarkAcked = %d, %v", n, err)
	}
	if r := raw(store.BucketPunchesAcked); !strings.Contains(r, later) {
		t.Fatalf("acked record %s lost the section %s", r, later)
	}
	got, err := j.Recent(1)
	if err != nil || len(got) != 1 || !got[0].Corrected || got[0].State != StateAcked {
		t.Fatalf("Recent = %+v, %v", got, err)
	}
}
