package logwrites

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// writer builds a log as the kernel lays it out.
type writer struct {
	ss      int
	entries [][]byte
	n       int
}

func (w *writer) entry(sector, nr, flags uint64, mark string, data []byte) {
	h := make([]byte, w.ss)
	le := binary.LittleEndian
	le.PutUint64(h[0:], sector)
	le.PutUint64(h[8:], nr)
	le.PutUint64(h[16:], flags)
	dl := uint64(len(data))
	if flags&Mark != 0 {
		dl = uint64(len(mark))
		copy(h[entrySize:], mark)
	}
	le.PutUint64(h[24:], dl)
	w.entries = append(w.entries, h)
	if flags&Discard == 0 {
		w.entries = append(w.entries, data)
	}
	w.n++
}

func (w *writer) bytes() []byte {
	sb := make([]byte, w.ss)
	le := binary.LittleEndian
	le.PutUint64(sb[0:], Magic)
	le.PutUint64(sb[8:], Version)
	le.PutUint64(sb[16:], uint64(w.n))
	le.PutUint32(sb[24:], uint32(w.ss))
	return bytes.Join(append([][]byte{sb}, w.entries...), nil)
}

type mem []byte

func (m mem) WriteAt(b []byte, off int64) (int, error) { return copy(m[off:], b), nil }

func TestReplayToEachCrashPoint(t *testing.T) {
	w := &writer{ss: 512}
	a := bytes.Repeat([]byte{'a'}, 1024)
	b := bytes.Repeat([]byte{'b'}, 512)
	w.entry(0, 2, 0, "", a)              // 0: a at sectors 0-1
	w.entry(0, 0, Flush, "", nil)        // 1: flush
	w.entry(1, 1, FUA, "", b)            // 2: b over sector 1, FUA
	w.entry(0, 0, Mark, "punch-1", nil)  // 3: mark
	w.entry(0, 1, Discard, "", nil)      // 4: discard sector 0
	w.entry(2, 1, Flush|Metadata, "", b) // 5: flush with data
	l, err := Open(bytes.NewReader(w.bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != 6 || l.SectorSize != 512 || l.Entries[3].Mark != "punch-1" {
		t.Fatalf("entries %+v", l.Entries)
	}
	var kinds []int
	for _, e := range l.CrashPoints() {
		kinds = append(kinds, e.Index)
	}
	if want := []int{1, 2, 3, 5}; !equal(kinds, want) {
		t.Errorf("crash points %v, want %v", kinds, want)
	}
	dev := make(mem, 4*512)
	r := l.NewReplayer(dev)
	steps := []struct {
		through int
		want    string // sector by sector: a, b, 0 (zero)
	}{{1, "aa00"}, {2, "ab00"}, {3, "ab00"}, {5, "0bb0"}}
	for _, s := range steps {
		if err := r.Through(s.through); err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		for i := 0; i < 4; i++ {
			c := dev[i*512]
			if c == 0 {
				c = '0'
			}
			got.WriteByte(c)
		}
		if got.String() != s.want {
			t.Errorf("through entry %d: %s, want %s", s.through, got.String(), s.want)
		}
	}
	if err := r.Through(6); err == nil {
		t.Error("replayed past the log's end")
	}
}

func TestOpenRefusesWhatIsNoLog(t *testing.T) {
	w := &writer{ss: 512}
	w.entry(0, 1, 0, "", make([]byte, 512))
	good := w.bytes()
	for name, mod := range map[string]func([]byte){
		"magic":       func(b []byte) { b[0] ^= 1 },
		"version":     func(b []byte) { b[8] = 2 },
		"sector size": func(b []byte) { binary.LittleEndian.PutUint32(b[24:], 300) },
		"entries":     func(b []byte) { b[16] = 9 },
		"huge entry":  func(b []byte) { binary.LittleEndian.PutUint64(b[512+8:], 1<<40) },
	} {
		b := bytes.Clone(good)
		mod(b)
		if _, err := Open(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	if _, err := Open(bytes.NewReader(good)); err != nil {
		t.Fatal(err)
	}
}

func FuzzOpen(f *testing.F) {
	w := &writer{ss: 512}
	w.entry(0, 1, Flush, "", make([]byte, 512))
	w.entry(0, 0, Mark, "m", nil)
	f.Add(w.bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Open(bytes.NewReader(b))
		if err != nil {
			return
		}
		dev := make(mem, 1<<20)
		r := l.NewReplayer(clamp{dev})
		for _, e := range l.CrashPoints() {
			if r.Through(e.Index) != nil {
				return
			}
		}
	})
}

// clamp refuses writes past the device's end, as a block device does.
type clamp struct{ m mem }

func (c clamp) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(b)) > int64(len(c.m)) {
		return 0, bytes.ErrTooLarge
	}
	return c.m.WriteAt(b, off)
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
