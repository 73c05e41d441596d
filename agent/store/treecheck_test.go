package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// rawState is a state file's bytes with what the damages below need to
// find in them.
type rawState struct {
	b        []byte
	ps       int
	meta     metaPage
	branch   uint64   // the pending punches' root, a branch page
	leaves   []uint64 // its children
	freelist []uint64 // the freelist page's ids
}

func readRaw(t *testing.T, path string) *rawState {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	metas := readMetas(f)
	f.Close()
	if len(metas) != 2 || metas[0].freelist == noFreelist {
		t.Fatalf("metas %+v", metas)
	}
	r := &rawState{b: b, meta: metas[0], ps: int(metas[0].pageSize)}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error {
		r.branch = uint64(tx.Bucket(BucketPunchesPending).Root())
		return nil
	})
	db.Close()
	kids, ok := branchChildren(r.page(r.branch))
	if !ok || len(kids) < 3 {
		t.Fatalf("pending punches' root %d: children %v %v", r.branch, kids, ok)
	}
	r.leaves = kids
	fl := r.page(r.meta.freelist)
	for i := range int(binary.NativeEndian.Uint16(fl[10:])) {
		r.freelist = append(r.freelist, binary.NativeEndian.Uint64(fl[pageHeader+8*i:]))
	}
	return r
}

func (r *rawState) page(id uint64) []byte { return r.b[int(id)*r.ps : int(id+1)*r.ps] }

// leafKey is the key of element i of a leaf page.
func leafKey(p []byte, i int) []byte {
	off := pageHeader + i*elemSize
	pos, ks := int(binary.NativeEndian.Uint32(p[off+4:])), int(binary.NativeEndian.Uint32(p[off+8:]))
	return p[off+pos : off+pos+ks]
}

// setFreelist rewrites the freelist page's ids.
func (r *rawState) setFreelist(ids []uint64) {
	fl := r.page(r.meta.freelist)
	binary.NativeEndian.PutUint16(fl[10:], uint16(len(ids)))
	for i, id := range ids {
		binary.NativeEndian.PutUint64(fl[pageHeader+8*i:], id)
	}
}

// bboltCheck is bbolt's own Tx.Check of the file at path, with the given
// freelist type: its first error.
func bboltCheck(t *testing.T, path string, fl bolt.FreelistType) (err error) {
	t.Helper()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("fault")
		}
	}()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, FreelistType: fl})
	if err != nil {
		return err
	}
	defer db.Close()
	var first error
	db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			if first == nil {
				first = e
			}
		}
		return nil
	})
	return first
}

// TestTreeCheckFindsWhatBboltFinds: the open's check reads the file with
// plain reads (checkTree), not through bbolt's map, yet finds each kind of
// damage bbolt's Tx.Check finds: keys out of order in a page and across
// pages, a page neither in use nor free, a page in use and free, a page
// freed twice. For each, bbolt's own check is run on the same bytes to show
// it is damage bbolt sees; and Open sets the file aside.
func TestTreeCheckFindsWhatBboltFinds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, r *rawState)
		want   string // in checkTree's reason
		// bbolt's check finds a page freed twice only with its array
		// freelist: the map the clock uses drops the repeat on loading.
		array bool
	}{
		{"sound", func(t *testing.T, r *rawState) {}, "", false},
		{"two keys swapped in a leaf", func(t *testing.T, r *rawState) {
			p := r.page(r.leaves[1])
			a, b := leafKey(p, 3), leafKey(p, 4)
			tmp := slices.Clone(a)
			copy(a, b)
			copy(b, tmp)
		}, "not above the one before", false},
		{"a leaf's first key below its parent's", func(t *testing.T, r *rawState) {
			clear(leafKey(r.page(r.leaves[2]), 0))
		}, "outside their parent's range", false},
		{"a free page left out of the freelist", func(t *testing.T, r *rawState) {
			r.setFreelist(r.freelist[1:])
		}, "neither in use nor in the freelist", false},
		{"a page in use put in the freelist", func(t *testing.T, r *rawState) {
			ids := append(slices.Clone(r.freelist), r.leaves[1])
			slices.Sort(ids)
			r.setFreelist(ids)
		}, "in use and in the freelist", false},
		{"a page freed twice", func(t *testing.T, r *rawState) {
			ids := append(slices.Clone(r.freelist), r.freelist[0])
			slices.Sort(ids)
			r.setFreelist(ids)
		}, "freed twice", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := fill(t, dir)
			r := readRaw(t, path)
			if len(r.freelist) == 0 {
				t.Fatal("the filled file has an empty freelist: the freelist cases need one")
			}
			tc.damage(t, r)
			if err := os.WriteFile(path, r.b, 0o600); err != nil {
				t.Fatal(err)
			}
			fl := bolt.FreelistMapType
			if tc.array {
				fl = bolt.FreelistArrayType
			}
			bbErr := bboltCheck(t, path, fl)
			err := precheck(path)
			if tc.want == "" {
				if bbErr != nil || err != nil {
					t.Fatalf("a sound file: bbolt's check %v, ours %v", bbErr, err)
				}
				return
			}
			if bbErr == nil {
				t.Fatalf("bbolt's own check finds nothing: not a case for this test")
			}
			var ce *CorruptError
			if !errors.As(err, &ce) || !strings.Contains(ce.Reason, tc.want) {
				t.Fatalf("our check: %v, want damage with %q (bbolt's: %v)", err, tc.want, bbErr)
			}
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if n, ok := s.Notice(); !ok || !strings.Contains(n.Reason, tc.want) {
				t.Errorf("Open's notice %+v %v, want the damage %q", n, ok, tc.want)
			}
		})
	}
}

// FuzzTreeCheck: on any bytes the open's tree check (plain reads) never
// panics, and a file it passes also passes bbolt's own Tx.Check, which it
// replaced at open (with the map freelist the clock uses).
func FuzzTreeCheck(f *testing.F) {
	dir := f.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		f.Fatal(err)
	}
	s.DB().Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(BucketPunchesPending)
		for i := range 300 {
			if err := b.Put(PutUint(uint64(i)), bytes.Repeat([]byte{byte(i)}, 60)); err != nil {
				return err
			}
		}
		return nil
	})
	s.Close()
	sound, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sound)
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if precheck(path) != nil || len(b) == 0 {
			return
		}
		if err := bboltCheck(t, path, bolt.FreelistMapType); err != nil {
			t.Fatalf("our check passes a file bbolt's finds damaged: %v", err)
		}
	})
}
