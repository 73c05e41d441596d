package journal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"timeclock/agent/store"
	"timeclock/clock"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func openJournal(t testing.TB, dir string, o Options) (*store.Store, *Journal) {
	t.Helper()
	st, err := store.Open(dir, store.Options{Clock: clock.NewFake(t0), Rules: Rules()})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := st.Notice(); ok {
		// Every test's reopen checks that the journal keeps its file sound
		// by the rules (counters included).
		t.Fatalf("the journal's own file taken as damaged: %+v", n)
	}
	j, err := Open(st, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close(); st.Close() })
	return st, j
}

func punch(emp string, k Kind, at time.Time) Punch {
	return Punch{Employee: emp, Name: "Name " + emp, Kind: k, Time: at, TZ: "America/New_York", TZOffset: -5 * 3600, ClockSet: true, Source: clock.SourceRTC}
}

func TestAppendSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	st, j := openJournal(t, dir, Options{})
	a, err := j.Append(punch("E1", KindIn, t0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := j.Append(Punch{Badge: "999", Kind: KindIn, Time: t0.Add(time.Second), TZ: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Seq != 1 || b.Seq != 2 || a.ID == b.ID || a.State != StatePending {
		t.Fatalf("appended %+v %+v", a, b)
	}
	j.Close()
	st.Close()

	_, j2 := openJournal(t, dir, Options{})
	if j2.Pending() != 2 || j2.LastSeq() != 2 || j2.LastUsedBy() != "Name E1" {
		t.Fatalf("after reopen: pending %d seq %d last used by %q", j2.Pending(), j2.LastSeq(), j2.LastUsedBy())
	}
	got, err := j2.PendingAfter(0, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("PendingAfter: %v %v", got, err)
	}
	if got[0] != a || got[1] != b {
		t.Errorf("read back\n%+v\n%+v\nwant\n%+v\n%+v", got[0], got[1], a, b)
	}
	c, _ := j2.Append(punch("E2", KindOut, t0))
	if c.Seq != 3 {
		t.Errorf("seq after reopen = %d, want 3", c.Seq)
	}
	l, ok, err := j2.LastOfBadge("999")
	if err != nil || !ok || l.Seq != 2 || l.Kind != KindIn {
		t.Errorf("LastOfBadge = %+v %v %v", l, ok, err)
	}
	if _, ok, _ := j2.LastOf("nobody"); ok {
		t.Error("LastOf an unknown employee found something")
	}
}

func TestGroupCommitConcurrent(t *testing.T) {
	_, j := openJournal(t, t.TempDir(), Options{})
	const n = 200
	var wg sync.WaitGroup
	seqs := make(chan uint64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := j.Append(punch(fmt.Sprint("E", i), KindIn, t0))
			if err != nil {
				t.Error(err)
				return
			}
			seqs <- p.Seq
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for s := range seqs {
		if seen[s] || s < 1 || s > n {
			t.Fatalf("seq %d duplicated or out of range", s)
		}
		seen[s] = true
	}
	if j.Pending() != n {
		t.Fatalf("pending %d, want %d", j.Pending(), n)
	}
}

func TestCapacityRefusesAndNeverDrops(t *testing.T) {
	_, j := openJournal(t, t.TempDir(), Options{Capacity: 3})
	for i := range 3 {
		if _, err := j.Append(punch(fmt.Sprint("E", i), KindIn, t0)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := j.Append(punch("E9", KindIn, t0)); !errors.Is(err, ErrFull) {
		t.Fatalf("4th append: %v, want ErrFull", err)
	}
	if _, err := j.AppendBatch([]Punch{punch("E8", KindIn, t0)}); !errors.Is(err, ErrFull) {
		t.Fatalf("batch append: %v, want ErrFull", err)
	}
	ps, _ := j.PendingAfter(0, 10)
	if len(ps) != 3 || ps[0].Employee != "E0" || j.Fill() != 1 {
		t.Fatalf("pending after refusal: %+v fill %v", ps, j.Fill())
	}
	// Acknowledged punches make room again.
	if n, err := j.MarkAcked([]ID{ps[0].ID}, t0); err != nil || n != 1 {
		t.Fatalf("MarkAcked = %d, %v", n, err)
	}
	if _, err := j.Append(punch("E9", KindIn, t0)); err != nil {
		t.Fatalf("append after ack: %v", err)
	}
}

func TestMarkAckedRecentAndCompact(t *testing.T) {
	_, j := openJournal(t, t.TempDir(), Options{Retention: 24 * time.Hour})
	var ps []Punch
	for i := range 5 {
		p, err := j.Append(punch(fmt.Sprint("E", i), KindIn, t0.Add(time.Duration(i)*time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	foreign := ps[3].ID
	foreign[0] ^= 0xff
	n, err := j.MarkAcked([]ID{ps[1].ID, ps[0].ID, ps[1].ID, foreign}, t0.Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("MarkAcked = %d, %v; want 2 (repeat and foreign ignored)", n, err)
	}
	if j.Pending() != 3 {
		t.Fatalf("pending %d", j.Pending())
	}
	old, ok, err := j.OldestPending()
	if err != nil || !ok || old.Seq != 3 {
		t.Fatalf("OldestPending = %+v %v %v", old, ok, err)
	}
	page, _ := j.PendingAfter(3, 1)
	if len(page) != 1 || page[0].Seq != 4 {
		t.Fatalf("PendingAfter(3,1) = %+v", page)
	}
	rec, err := j.Recent(4)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rec {
		got = append(got, fmt.Sprintf("%d:%s", p.Seq, p.State))
	}
	if fmt.Sprint(got) != "[5:pending 4:pending 3:pending 2:acked]" {
		t.Fatalf("Recent = %v", got)
	}
	if n, _ := j.Compact(t0.Add(2 * time.Hour)); n != 0 {
		t.Fatalf("compacted %d inside retention", n)
	}
	if n, _ := j.Compact(t0.Add(26 * time.Hour)); n != 2 {
		t.Fatalf("compacted %d, want the 2 acked", n)
	}
	rec, _ = j.Recent(10)
	if len(rec) != 3 || j.Pending() != 3 {
		t.Fatalf("after compaction: %d recent, %d pending", len(rec), j.Pending())
	}
}

func TestMarkAckedThrough(t *testing.T) {
	_, j := openJournal(t, t.TempDir(), Options{})
	for i := range 5 {
		j.Append(punch(fmt.Sprint("E", i), KindIn, t0))
	}
	if n, err := j.MarkAckedThrough(3, t0); err != nil || n != 3 {
		t.Fatalf("MarkAckedThrough(3) = %d, %v", n, err)
	}
	if n, _ := j.MarkAckedThrough(3, t0); n != 0 {
		t.Fatalf("repeat moved %d", n)
	}
	if ps, _ := j.PendingAfter(0, 10); len(ps) != 2 || ps[0].Seq != 4 || j.Pending() != 2 {
		t.Fatalf("pending after: %+v", ps)
	}
}

func TestCompactManyInChunks(t *testing.T) {
	_, j := openJournal(t, t.TempDir(), Options{Retention: time.Hour})
	batch := make([]Punch, 2*compactChunk+7)
	for i := range batch {
		batch[i] = punch("E", KindIn, t0)
	}
	out, err := j.AppendBatch(batch)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]ID, len(out))
	for i, p := range out {
		ids[i] = p.ID
	}
	if n, err := j.MarkAcked(ids, t0); err != nil || n != len(ids) {
		t.Fatalf("MarkAcked %d %v", n, err)
	}
	if n, err := j.Compact(t0.Add(2 * time.Hour)); err != nil || n != len(ids) {
		t.Fatalf("Compact = %d, %v; want %d", n, err, len(ids))
	}
}

func TestClockCorrection(t *testing.T) {
	_, j := openJournal(t, t.TempDir(), Options{})
	unsetAt := time.Date(1970, 1, 1, 0, 5, 0, 0, time.UTC)
	a, _ := j.Append(Punch{Employee: "E1", Kind: KindIn, Time: unsetAt, TZ: "America/New_York", BootID: "boot-A", SinceBoot: 300 * time.Second})
	b, _ := j.Append(Punch{Employee: "E2", Kind: KindIn, Time: unsetAt, TZ: "UTC", BootID: "boot-OLD", SinceBoot: 10 * time.Second})
	c, _ := j.Append(punch("E3", KindIn, t0))
	if j.UnsetClock() != 2 {
		t.Fatalf("UnsetClock = %d", j.UnsetClock())
	}
	// Real time arrives 100 s later in boot A: the punch was 100 s ago.
	n, err := j.CorrectClock("boot-A", t0, 400*time.Second)
	if err != nil || n != 1 {
		t.Fatalf("CorrectClock = %d, %v", n, err)
	}
	ps, _ := j.PendingAfter(0, 10)
	if !ps[0].Time.Equal(t0.Add(-100*time.Second)) || !ps[0].Corrected || ps[0].ClockSet || ps[0].TZOffset != -5*3600 {
		t.Errorf("corrected punch %+v", ps[0])
	}
	if ps[1].Corrected || !ps[1].Time.Equal(b.Time) || ps[2] != c {
		t.Errorf("other punches changed: %+v %+v", ps[1], ps[2])
	}
	l, _, _ := j.LastOf("E1")
	if !l.Time.Equal(ps[0].Time) {
		t.Errorf("last punch of E1 at %v, want the corrected %v", l.Time, ps[0].Time)
	}
	if j.UnsetClock() != 0 {
		t.Errorf("UnsetClock after correction = %d", j.UnsetClock())
	}
	if !ps[0].OriginalTime.Equal(unsetAt) || ps[0].Source != clock.SourceUnset {
		t.Errorf("corrected punch keeps original %v, source %s", ps[0].OriginalTime, ps[0].Source)
	}
	// The correction waits for the cloud, acked or not, until it confirms.
	if _, err := j.MarkAcked([]ID{a.ID}, t0); err != nil {
		t.Fatal(err)
	}
	cs, err := j.Corrections(10)
	if err != nil || len(cs) != 1 || cs[0].ID != a.ID || !cs[0].Corrected || cs[0].State != StateAcked {
		t.Fatalf("Corrections = %+v, %v", cs, err)
	}
	if n, _ := j.Compact(t0.Add(1000 * time.Hour)); n != 0 {
		t.Errorf("compaction dropped %d punches with unconfirmed corrections", n)
	}
	if err := j.MarkCorrected([]ID{a.ID, a.ID}); err != nil {
		t.Fatal(err)
	}
	if cs, _ := j.Corrections(10); len(cs) != 0 || j.PendingCorrections() != 0 {
		t.Errorf("after MarkCorrected: %+v", cs)
	}
}

// A punch on an unverified RTC that turns out right keeps its time and is
// not reported as corrected.
func TestClockCorrectionOfARightRTC(t *testing.T) {
	_, j := openJournal(t, t.TempDir(), Options{})
	p := punch("E1", KindIn, t0)
	p.BootID, p.SinceBoot = "boot-A", 100*time.Second
	if _, err := j.Append(p); err != nil {
		t.Fatal(err)
	}
	if j.UnsetClock() != 1 {
		t.Fatalf("UnsetClock = %d, want the rtc-unverified punch", j.UnsetClock())
	}
	if n, err := j.CorrectClock("boot-A", t0.Add(10*time.Second+300*time.Millisecond), 110*time.Second); err != nil || n != 0 {
		t.Fatalf("CorrectClock = %d, %v", n, err)
	}
	ps, _ := j.PendingAfter(0, 1)
	if ps[0].Corrected || !ps[0].Time.Equal(t0) || j.PendingCorrections() != 0 || j.UnsetClock() != 0 {
		t.Errorf("punch %+v, corrections %d", ps[0], j.PendingCorrections())
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, p := range []Punch{
		punch("E1", KindLunch, t0),
		{Badge: "12345678901234567890", Kind: KindOut, Time: time.UnixMilli(-5).UTC(), TZ: "", TZOffset: 14 * 3600, State: StateAcked, AckedAt: t0, Source: clock.SourceUnset},
		{Employee: "é", Name: "Zoë", Kind: KindBreak, Department: "Shipping", Time: t0, BootID: "0b6e4a7c-8d2f-4e7a-9c1b-2f3d4e5f6a7b", SinceBoot: 12345 * time.Millisecond, Corrected: true, State: StatePending, Source: clock.SourceUnset},
		{Employee: "E2", Kind: KindIn, Time: t0, TZ: "UTC", Source: clock.SourceNTP, ClockSet: true, State: StatePending},
		{Employee: "E3", Kind: KindIn, Time: t0, TZ: "UTC", Source: clock.SourceCloud, ClockSet: true, State: StatePending},
		{Employee: "E4", Kind: KindIn, Time: t0, BootID: "b", SinceBoot: time.Second, Source: clock.SourceUnset, Corrected: true, OriginalTime: time.UnixMilli(5000).UTC(), State: StateAcked, AckedAt: t0},
		{Employee: "E5", Kind: KindIn, Time: t0, TZ: "UTC", Source: clock.SourceNTP, ClockSet: true, State: StatePending, Finger: true, MatchScore: 150},
		{Employee: "E6", Kind: KindOut, Time: t0, BootID: "b", SinceBoot: time.Second, Source: clock.SourceUnset, Corrected: true, OriginalTime: time.UnixMilli(5000).UTC(), State: StatePending, Finger: true, MatchScore: 0xFFFF},
	} {
		p.Seq = 77
		if p.State == 0 {
			p.State = StatePending
		}
		b, err := encode(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decode(b)
		if err != nil || got != p {
			t.Errorf("round trip\n got %+v %v\nwant %+v", got, err, p)
		}
	}
	if _, err := encode(Punch{Kind: 9}); err == nil {
		t.Error("encoded a punch of kind 9")
	}
	for _, p := range []Punch{{Kind: KindIn, MatchScore: 5}, {Kind: KindIn, Finger: true, MatchScore: 0x10000}, {Kind: KindIn, Finger: true, MatchScore: -1}} {
		if _, err := encode(p); err == nil {
			t.Errorf("encoded match score %d with finger %v", p.MatchScore, p.Finger)
		}
	}
}

func TestRecordSize(t *testing.T) {
	b, _ := encode(Punch{Employee: "E1042", Name: "Maria Gonzalez", Kind: KindIn, Department: "Assembly", Time: t0, TZ: "America/New_York", TZOffset: -18000, ClockSet: true, Seq: 150000})
	// 63 bytes of fields and the 4-byte checksum. The budget is the state
	// file: 200,000 pending punches in at most 64 MiB (BENCHMARKS.md); bbolt
	// adds 24 bytes of key and element per record and packs pages full.
	if len(b) > 68 {
		t.Errorf("a typical record is %d bytes; the 200,000-punch budget assumes <= 68", len(b))
	}
}

func FuzzDecodeRecord(f *testing.F) {
	for _, s := range recordSeeds() {
		f.Add(s)
	}
	f.Add([]byte{1})
	f.Add([]byte{1, 0x41, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) { decodeProperty(t, b) })
}

// FuzzDecodeSealedRecord is FuzzDecodeRecord with the checksum made right
// for whatever bytes the fuzzer chose, so it gets past the CRC-32C and
// into the fields and sections of version 2.
func FuzzDecodeSealedRecord(f *testing.F) {
	for _, s := range recordSeeds() {
		if s[0] == recordVersion {
			f.Add(s[:len(s)-crcSize])
		}
	}
	f.Add([]byte{2})
	f.Add([]byte{2, 0x81})
	f.Fuzz(func(t *testing.T, body []byte) { decodeProperty(t, withCRC(bytes.Clone(body))) })
}

// recordSeeds are records of every shape: version 2 with and without
// sections (known, unknown, must-understand), version 1 as it was written.
func recordSeeds() [][]byte {
	var out [][]byte
	for _, p := range []Punch{
		punch("E1", KindIn, t0),
		{Badge: "1", Kind: KindOut, Time: t0, State: StateAcked, AckedAt: t0},
		{Employee: "E", Kind: KindBreak, Time: t0, BootID: "b", SinceBoot: time.Second},
		{Employee: "E", Kind: KindIn, Time: t0, Finger: true, MatchScore: 200},
	} {
		b, _ := encode(p)
		out = append(out, b)
		body := b[:len(b)-crcSize]
		for _, sec := range [][]byte{{0x70, 2, 'h', 'i'}, {0x67, 0, 0x71, 1, 0}, {0x90, 1, 1}, {0x10, 0}} {
			out = append(out, withCRC(append(bytes.Clone(body), sec...)))
		}
	}
	v1, _ := hex.DecodeString(goldenV1)
	out = append(out, v1, append(bytes.Clone(v1), 0x66, 0x96, 0x01))
	return out
}

// decodeProperty: a record decodes to a whole punch or to an error, and
// what decodes encodes back to the same punch.
func decodeProperty(t *testing.T, b []byte) {
	p, err := decode(b)
	if err != nil {
		if p != (Punch{}) {
			t.Fatalf("error %v with a half-filled punch %+v", err, p)
		}
		if _, cerr := checkRecord(b); cerr == nil {
			t.Fatalf("decode refuses (%v), the open check passes", err)
		}
		return
	}
	if _, err := checkRecord(b); err != nil {
		t.Fatalf("decode reads %+v, the open check refuses: %v", p, err)
	}
	again, err := encode(p)
	if err != nil {
		t.Fatalf("decoded %+v does not encode: %v", p, err)
	}
	p2, err := decode(again)
	if err != nil || p2 != p {
		t.Fatalf("re-decode %+v %v, want %+v", p2, err, p)
	}
}

func FuzzDecodeLast(f *testing.F) {
	f.Add(encodeLast(last{Seq: 5, Kind: KindIn, Time: t0, Department: "A"}))
	f.Add([]byte{})
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := decodeLast(b)
		if err != nil {
			return
		}
		l2, err := decodeLast(encodeLast(l))
		if err != nil || l2 != l {
			t.Fatalf("round trip %+v -> %+v %v", l, l2, err)
		}
	})
}

func TestParseKindAndID(t *testing.T) {
	for _, k := range []Kind{KindIn, KindOut, KindBreak, KindLunch} {
		if got, err := ParseKind(k.String()); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v %v", k, got, err)
		}
	}
	if _, err := ParseKind("nap"); err == nil {
		t.Error("ParseKind accepted nap")
	}
	id := makeID([8]byte{1, 2, 3, 4, 5, 6, 7, 8}, 42)
	got, err := ParseID(id.String())
	if err != nil || got != id || got.Seq() != 42 {
		t.Errorf("ParseID(%s) = %v %v", id, got, err)
	}
	for _, bad := range []string{"", "xyz", id.String()[:31] + "g"} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
}

// Punches of an earlier boot leave the correction list at start: nothing
// can place them.
func TestForgetOtherBoots(t *testing.T) {
	_, j := openJournal(t, t.TempDir(), Options{})
	unsetAt := time.Date(1970, 1, 1, 0, 5, 0, 0, time.UTC)
	for _, boot := range []string{"boot-OLD", "boot-A", "boot-OLD"} {
		if _, err := j.Append(Punch{Employee: "E1", Kind: KindIn, Time: unsetAt, TZ: "UTC", BootID: boot, SinceBoot: time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := j.ForgetOtherBoots("boot-A"); err != nil || n != 2 || j.UnsetClock() != 1 {
		t.Fatalf("ForgetOtherBoots = %d, %v; %d left", n, err, j.UnsetClock())
	}
	if n, err := j.CorrectClock("boot-A", t0, 2*time.Second); err != nil || n != 1 {
		t.Fatalf("CorrectClock after = %d, %v", n, err)
	}
}
