package journal

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/store"
	"timeclock/clock"
)

// pendingIDs opens the state in dir as the agent does and lists its pending
// punches' IDs, with the store's notice (damaged or not).
func pendingIDs(t *testing.T, dir string) ([]string, store.Notice, bool) {
	t.Helper()
	st, err := store.Open(dir, store.Options{Clock: clock.NewFake(t0), Rules: Rules()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, damaged := st.Notice()
	j, err := Open(st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ps, err := j.PendingAfter(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID.String())
	}
	return ids, n, damaged
}

// A changed bit in the file's nonce would give every punch a new ID, and
// the cloud would store each one again. The nonce's check copy catches it:
// the file is salvaged as damaged (said loudly), and the punches keep their
// IDs.
func TestFlippedNonceKeepsPunchIDs(t *testing.T) {
	dir := t.TempDir()
	st, j := openJournal(t, dir, Options{})
	for i := range 5 {
		if _, err := j.Append(punch("E1", KindIn, t0.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	st.Close()
	want, _, _ := pendingIDs(t, dir)
	if len(want) != 5 {
		t.Fatalf("ids %v", want)
	}

	// Flip a bit in every plain copy of the nonce in the file (the live
	// meta leaf and any stale copy of it), not in the check copies.
	path := filepath.Join(dir, store.FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	nonce := readNonce(t, path)
	sum := binary.BigEndian.AppendUint32(nil, crc32.Checksum(nonce, crc32.MakeTable(crc32.Castagnoli)))
	flipped := 0
	for off := 0; ; {
		i := bytes.Index(b[off:], nonce)
		if i < 0 {
			break
		}
		at := off + i
		if !bytes.HasPrefix(b[at+8:], sum) {
			b[at+3] ^= 0x10
			flipped++
		}
		off = at + 8
	}
	if flipped == 0 {
		t.Fatal("no plain copy of the nonce found in the file")
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}

	got, n, damaged := pendingIDs(t, dir)
	if !damaged || n.NewIDs {
		t.Errorf("notice %+v (damaged %v): want a salvage that kept the IDs", n, damaged)
	}
	if !slices.Equal(got, want) {
		t.Errorf("punch IDs after the flip:\n%v\nwant\n%v", got, want)
	}
}

// A file made before the check copy existed gets one at its first open,
// with the same nonce: the punch IDs do not change.
func TestNonceCheckAddedToAnOlderFile(t *testing.T) {
	dir := t.TempDir()
	st, j := openJournal(t, dir, Options{})
	if _, err := j.Append(punch("E1", KindIn, t0)); err != nil {
		t.Fatal(err)
	}
	j.Close()
	st.Close()
	want, _, _ := pendingIDs(t, dir)
	path := filepath.Join(dir, store.FileName)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(store.BucketMeta).Delete(store.KeyNonceCheck) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	got, n, damaged := pendingIDs(t, dir)
	if damaged || !slices.Equal(got, want) {
		t.Fatalf("ids %v (want %v), notice %+v", got, want, n)
	}
	db, err = bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if c := tx.Bucket(store.BucketMeta).Get(store.KeyNonceCheck); len(c) != 12 {
			t.Errorf("nonce_check after the open: %x", c)
		}
		return nil
	})
}

func readNonce(t *testing.T, path string) []byte {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var nonce []byte
	db.View(func(tx *bolt.Tx) error {
		nonce = bytes.Clone(tx.Bucket(store.BucketMeta).Get(store.KeyNonce))
		return nil
	})
	if len(nonce) != 8 {
		t.Fatalf("nonce %x", nonce)
	}
	return nonce
}
