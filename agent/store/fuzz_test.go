package store

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/clock"
)

// metaBytes is a sound meta page (header included) as bbolt lays it out.
func metaBytes(id uint64, pageSize uint32, root, freelist, pgid, txid uint64) []byte {
	b := make([]byte, pageHeader+metaLen)
	le := binary.NativeEndian
	le.PutUint64(b[0:], id)
	le.PutUint16(b[8:], 0x04)
	m := b[pageHeader:]
	le.PutUint32(m[0:], metaMagic)
	le.PutUint32(m[4:], metaVersion)
	le.PutUint32(m[8:], pageSize)
	le.PutUint64(m[16:], root)
	le.PutUint64(m[32:], freelist)
	le.PutUint64(m[40:], pgid)
	le.PutUint64(m[48:], txid)
	h := fnv.New64a()
	h.Write(m[:metaSumOffset])
	le.PutUint64(m[metaSumOffset:], h.Sum64())
	return b
}

// FuzzParseMeta: any bytes parse to a meta page or to "not one", never a
// panic; a sound page round-trips.
func FuzzParseMeta(f *testing.F) {
	f.Add(metaBytes(0, 4096, 3, 2, 4, 1))
	f.Add(make([]byte, pageHeader+metaLen))
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := parseMeta(b)
		if !ok {
			return
		}
		again := metaBytes(0, m.pageSize, m.root, m.freelist, m.pgid, m.txid)
		if m2, ok := parseMeta(again); !ok || m2 != m {
			t.Fatalf("meta %+v does not round-trip: %+v %v", m, m2, ok)
		}
	})
}

// FuzzOpenAnyBytes: whatever the state file holds (real files, damaged
// ones, made-up meta pages), precheck, the page scanner and Open never
// panic, and Open always gives a usable store.
func FuzzOpenAnyBytes(f *testing.F) {
	dir := f.TempDir()
	fill(f, dir)
	sound, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sound[:16384])
	f.Add(append(metaBytes(0, 4096, 3, 2, 4, 1), make([]byte, 4096-80)...))
	f.Add(bytes.Repeat([]byte{0xAA}, 8192))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, FileName)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		precheck(path)
		scanFile(path)
		s, err := Open(dir, Options{Clock: clock.NewFake(t0), LockTimeout: time.Second})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		s.Close()
		if err := bboltCheck(t, path, bolt.FreelistMapType); err != nil {
			t.Fatalf("the file Open gave fails bbolt's check: %v", err)
		}
	})
}
