package journal_test

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/roster"
	"timeclock/agent/store"
	"timeclock/clock"
	"timeclock/internal/punchcheck"
)

// The damage corpus: state files made by the real code (a clock with the
// demo roster, 45 punches committed one by one as badges are, the first 10
// acked by the cloud), committed so every run damages the same bytes.
// go test ./agent/journal -run TestMakeDamageCorpus -update-corpus remakes them.
var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/damage from the real code")

const (
	corpusFile    = "testdata/damage/state-45.db"
	bigCorpusFile = "testdata/damage/state-1000.db"
)

var corpusStart = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestMakeDamageCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("-update-corpus not set")
	}
	dir := t.TempDir()
	st, j, ros := openClock(t, dir, clock.NewFake(corpusStart))
	if _, err := ros.ImportFile("../testdata/roster.json"); err != nil {
		t.Fatal(err)
	}
	emps := ros.Current().Employees()
	for i := range 45 {
		e := emps[i%len(emps)]
		kind := journal.KindIn
		if (i/len(emps))%2 == 1 {
			kind = journal.KindOut
		}
		_, err := j.Append(journal.Punch{Employee: e.ID, Name: e.Name, Kind: kind, Time: corpusStart.Add(time.Duration(i) * time.Minute),
			TZ: "America/New_York", TZOffset: -5 * 3600, ClockSet: true, Source: clock.SourceNTP})
		if err != nil {
			t.Fatal(err)
		}
		if i == 9 {
			if _, err := j.MarkAckedThrough(10, corpusStart.Add(10*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	}
	j.Close()
	st.Close()
	saveCorpus(t, dir, corpusFile)

	// The bigger one: 1,000 punches in 50 commits of 20, the first 300
	// acked, so the punch buckets have branch pages.
	dir = t.TempDir()
	st, j, _ = openClock(t, dir, clock.NewFake(corpusStart))
	for c := range 50 {
		ps := make([]journal.Punch, 20)
		for i := range ps {
			e := emps[(c*20+i)%len(emps)]
			ps[i] = journal.Punch{Employee: e.ID, Name: e.Name, Kind: journal.KindIn, Time: corpusStart.Add(time.Duration(c*20+i) * time.Second),
				TZ: "America/New_York", TZOffset: -5 * 3600, ClockSet: true, Source: clock.SourceNTP}
		}
		if _, err := j.AppendBatch(ps); err != nil {
			t.Fatal(err)
		}
		if c == 20 {
			if _, err := j.MarkAckedThrough(300, corpusStart.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	j.Close()
	st.Close()
	saveCorpus(t, dir, bigCorpusFile)
}

func saveCorpus(t *testing.T, dir, to string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(to), 0o755)
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d bytes", to, len(b))
}

// openClock opens the state as the clock does (agent.openState): the
// store with the journal's and the roster's rules, the journal, the roster.
func openClock(t testing.TB, dir string, clk clock.Clock) (*store.Store, *journal.Journal, *roster.Keeper) {
	t.Helper()
	st, err := store.Open(dir, store.Options{Clock: clk, Rules: append(journal.Rules(), roster.Rules()...)})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	j, err := journal.Open(st, journal.Options{})
	if err != nil {
		st.Close()
		t.Fatalf("journal.Open: %v", err)
	}
	ros, err := roster.Open(st)
	if err != nil {
		t.Logf("roster: %v", err) // the clock logs it and runs on
	}
	return st, j, ros
}

// allPunches is every punch the journal holds, pending and acked, by seq.
func allPunches(t testing.TB, j *journal.Journal) map[uint64]journal.Punch {
	t.Helper()
	ps, err := j.Recent(1 << 20)
	if err != nil {
		t.Fatalf("Recent: %v", err)
	}
	out := map[uint64]journal.Punch{}
	for _, p := range ps {
		out[p.Seq] = p
	}
	return out
}

func seqSet(ps map[uint64]journal.Punch) map[uint64]bool {
	out := map[uint64]bool{}
	for s := range ps {
		out[s] = true
	}
	return out
}

// corpus returns the corpus file's bytes and the punches in it.
func corpus(t testing.TB, file string) ([]byte, map[uint64]journal.Punch) {
	t.Helper()
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, store.FileName), orig, 0o600)
	st, j, _ := openClock(t, dir, clock.NewFake(corpusStart))
	defer st.Close()
	defer j.Close()
	if _, ok := st.Notice(); ok {
		t.Fatal("the corpus file itself is taken as damaged")
	}
	ps := allPunches(t, j)
	if want := map[string][2]int{corpusFile: {45, 35}, bigCorpusFile: {1000, 700}}[file]; len(ps) != want[0] || j.Pending() != want[1] {
		t.Fatalf("%s holds %d punches, %d pending; want %v", file, len(ps), j.Pending(), want)
	}
	return orig, ps
}

// useDamaged opens dir's damaged state as the clock does, checks that
// every readable punch is kept (byte for byte when no copy of it changed),
// then uses it (punch, read
// pending, ack, reopen). It returns the punches kept and readable.
func useDamaged(t testing.TB, dir string, orig, damaged []byte, want map[uint64]journal.Punch) (kept, read int) {
	t.Helper()
	clk := clock.NewFake(corpusStart.Add(time.Hour))
	st, j, _ := openClock(t, dir, clk)
	got := allPunches(t, j)
	rd, untouched := punchcheck.Copies(orig, damaged, seqSet(want))
	notice, _ := st.Notice()
	for seq := range rd {
		p, ok := got[seq]
		if !ok {
			t.Errorf("readable punch %d lost", seq)
			continue
		}
		w := want[seq]
		p.State, p.AckedAt, w.State, w.AckedAt = 0, time.Time{}, 0, time.Time{}
		if notice.NewIDs {
			// Every copy of the nonce was lost: new IDs, as the notice says.
			p.ID, w.ID = journal.ID{}, journal.ID{}
		}
		if p != w && untouched[seq] {
			t.Errorf("punch %d salvaged as\n%+v\nwant\n%+v", seq, p, w)
		}
	}
	for seq := range got {
		if _, ok := want[seq]; ok {
			kept++
		}
	}
	_, damagedNotice := st.Notice()
	if kept < len(want) && !damagedNotice {
		t.Errorf("%d of %d punches kept, and no damage notice", kept, len(want))
	}
	// Every record carries a CRC-32C: a punch never comes back changed
	// (a changed copy is damage, and an intact copy, if any, is kept).
	for seq, p := range got {
		w, ok := want[seq]
		if !ok {
			continue
		}
		p.State, p.AckedAt, w.State, w.AckedAt = 0, time.Time{}, 0, time.Time{}
		if notice.NewIDs {
			p.ID, w.ID = journal.ID{}, journal.ID{}
		}
		if p != w {
			t.Errorf("punch %d kept changed (notice %v):\n%+v\nwant\n%+v", seq, damagedNotice, p, w)
		}
	}
	// The clock goes on: a punch, the pending list, an ack, a reopen.
	p, err := j.Append(journal.Punch{Badge: "777", Kind: journal.KindIn, Time: clk.Now(), TZ: "UTC", ClockSet: true, Source: clock.SourceNTP})
	if err != nil {
		t.Fatalf("punch after damage: %v", err)
	}
	if _, ok := got[p.Seq]; ok {
		t.Fatalf("new punch reuses seq %d", p.Seq)
	}
	pend, err := j.PendingAfter(0, 1<<20)
	if err != nil || len(pend) == 0 || pend[len(pend)-1].ID != p.ID {
		t.Fatalf("pending after damage: %d %v", len(pend), err)
	}
	if _, err := j.MarkAcked([]journal.ID{pend[0].ID}, clk.Now()); err != nil {
		t.Fatalf("ack after damage: %v", err)
	}
	j.Close()
	st.Close()
	aside, _ := store.Damaged(dir)
	st, j, _ = openClock(t, dir, clk)
	defer st.Close()
	defer j.Close()
	if again, _ := store.Damaged(dir); len(again) != len(aside) {
		t.Errorf("the salvaged file was set aside again: %v", again)
	}
	if _, ok := st.Notice(); ok != damagedNotice {
		t.Errorf("notice %v after reopen, %v before", ok, damagedNotice)
	}
	if after := allPunches(t, j); len(after) != len(got)+1 {
		t.Errorf("reopen holds %d punches, want %d", len(after), len(got)+1)
	}
	return kept, len(rd)
}

// damagedDir is a state directory holding d as its state file, beside
// the marker a clock that ran this firmware has.
func damagedDir(t testing.TB, d []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, store.FileName), d, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, store.MarkerName), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// FuzzDamagedStateFile damages the real state file at a random offset
// (overwrite, bit flips, truncation), opens and uses it: no panic, every
// readable punch kept.
func FuzzDamagedStateFile(f *testing.F) {
	f.Add(uint32(12288), []byte{0xAA, 0xAA, 0xAA, 0xAA}, byte(0))
	f.Add(uint32(4096*3+100), []byte("0123456789"), byte(1))
	f.Add(uint32(0), make([]byte, 4096), byte(0))
	f.Add(uint32(20000), []byte{}, byte(2))
	f.Add(uint32(4096), make([]byte, 64), byte(0))
	// A bucket's root page id made wild: bbolt's own check would fault on it.
	f.Add(uint32(17189), []byte{0xAA, 0xAA, 0xAA, 0}, byte(0))
	// The bigger corpus (mode&0x80; mode%3 picks overwrite, flip, truncate).
	f.Add(uint32(3*4096), bytes.Repeat([]byte{0xAA}, 4096), byte(0x81))
	f.Add(uint32(14*4096+40), []byte{0xFF, 0xFF, 0xFF}, byte(0x82))
	f.Add(uint32(3*4096), []byte{}, byte(0x80))
	f.Fuzz(func(t *testing.T, off uint32, data []byte, mode byte) {
		file := corpusFile
		if mode&0x80 != 0 {
			file = bigCorpusFile // with branch pages
		}
		orig, want := corpus(t, file)
		d := bytes.Clone(orig)
		o := int(off) % len(d)
		switch mode % 3 {
		case 0: // overwrite
			copy(d[o:], data)
		case 1: // flip bits
			for i, b := range data {
				if o+i < len(d) {
					d[o+i] ^= b | 1
				}
			}
		case 2: // truncate
			d = d[:o]
		}
		dir := damagedDir(t, d)
		useDamaged(t, dir, orig, d, want)
	})
}

func TestCorpusIsReadable(t *testing.T) {
	orig, want := corpus(t, corpusFile)
	if rd := punchcheck.Readable(orig, orig, seqSet(want)); len(rd) != len(want) {
		t.Fatalf("readable() finds %d of %d punches in the sound file", len(rd), len(want))
	}
}

// TestRandomDamage is the fuzz test's property over a fixed series of
// random damages to both corpora, so every run covers them. (A series
// like it found that returning before bbolt's check goroutine ended, then
// closing the file, faulted that goroutine fatally.)
func TestRandomDamage(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 14))
	for i := range 100 {
		file := corpusFile
		if r.IntN(2) == 0 {
			file = bigCorpusFile
		}
		orig, want := corpus(t, file)
		d := bytes.Clone(orig)
		o, n := r.IntN(len(d)), 1+r.IntN(16)
		if r.IntN(10) == 0 {
			n = r.IntN(5000)
		}
		data := make([]byte, n)
		for k := range data {
			data[k] = byte(r.Uint32())
		}
		mode := r.IntN(3)
		switch mode {
		case 0:
			copy(d[o:], data)
		case 1:
			for k, b := range data {
				if o+k < len(d) {
					d[o+k] ^= b | 1
				}
			}
		case 2:
			d = d[:o]
		}
		useDamaged(t, damagedDir(t, d), orig, d, want)
		if t.Failed() {
			t.Fatalf("damage %d: %s, offset %d, %d bytes, mode %d", i, file, o, n, mode)
		}
	}
}
