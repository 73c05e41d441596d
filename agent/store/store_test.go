package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/clock"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// fill makes a sound state file with enough data to span many pages.
func fill(t testing.TB, dir string) string {
	t.Helper()
	s, err := Open(dir, Options{Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	err = s.DB().Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(BucketPunchesPending)
		for i := range 3000 {
			if err := b.Put(PutUint(uint64(i)), bytes.Repeat([]byte{byte(i)}, 60)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	return filepath.Join(dir, FileName)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestOpenFreshAndReopen(t *testing.T) {
	dir := t.TempDir()
	path := fill(t, dir)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file %v mode %v, want 0600", err, fi.Mode())
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Notice(); ok {
		t.Error("a sound file got a recovery notice")
	}
	s.DB().View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(BucketPunchesPending).Get(PutUint(2999)); len(v) != 60 {
			t.Errorf("data lost across reopen: %x", v)
		}
		return nil
	})
	s.Close()
	if err := bboltCheck(t, path, bolt.FreelistMapType); err != nil {
		t.Errorf("bbolt's check on a sound file: %v", err)
	}
}

func TestDamagedFilesAreSetAside(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
		reason string
	}{
		{"truncated", func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			os.Truncate(path, fi.Size()/2)
		}, "truncated"},
		{"truncated to one page", func(t *testing.T, path string) { os.Truncate(path, 4096) }, ""},
		{"zeroed", func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			os.WriteFile(path, make([]byte, fi.Size()), 0o600)
		}, "no valid meta"},
		{"garbage", func(t *testing.T, path string) {
			b := make([]byte, 64<<10)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			os.WriteFile(path, b, 0o600)
		}, "no valid meta"},
		{"short garbage", func(t *testing.T, path string) { os.WriteFile(path, []byte("hello"), 0o600) }, "no valid meta"},
		{"someone else's bbolt file", func(t *testing.T, path string) {
			os.Remove(path)
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
			db.Close()
		}, "no meta bucket"},
		{"future schema", func(t *testing.T, path string) {
			db, _ := bolt.Open(path, 0o600, nil)
			db.Update(func(tx *bolt.Tx) error { return tx.Bucket(BucketMeta).Put(KeySchema, PutUint(99)) })
			db.Close()
		}, "schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := fill(t, dir)
			tc.damage(t, path)
			var logBuf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logBuf, nil))
			s, err := Open(dir, Options{Logger: log, Clock: clock.NewFake(t0)})
			if err != nil {
				t.Fatalf("Open of a damaged file failed instead of recovering: %v", err)
			}
			n, ok := s.Notice()
			if !ok || !strings.Contains(n.Reason, tc.reason) || n.Aside != "state.db.damaged-20261123T090000Z" {
				t.Errorf("notice %+v %v, want reason with %q", n, ok, tc.reason)
			}
			if _, err := os.Stat(filepath.Join(dir, n.Aside)); err != nil {
				t.Errorf("damaged file not kept aside: %v", err)
			}
			if !strings.Contains(logBuf.String(), "storage damaged") {
				t.Errorf("recovery not logged:\n%s", logBuf.String())
			}
			// After a recovery the sequence starts above any old number.
			s.DB().View(func(tx *bolt.Tx) error {
				seq, _ := Uint(tx.Bucket(BucketMeta).Get(KeyLastSeq))
				if seq != uint64(t0.UnixMilli()) {
					t.Errorf("last_seq after recovery = %d", seq)
				}
				return nil
			})
			s.Close()
			// The next start opens the fresh file normally: no loop, notice kept.
			s2, err := Open(dir, Options{Clock: clock.NewFake(t0.Add(time.Minute))})
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			if _, ok := s2.Notice(); !ok || !s2.Recovered() {
				t.Errorf("notice lost on restart (Recovered %v)", s2.Recovered())
			}
			if names := dirNames(t, dir); len(names) != 3 {
				t.Errorf("dir has %v, want state.db, its marker and one aside file", names)
			}
			if err := s2.ClearNotice(); err != nil {
				t.Fatal(err)
			}
			if _, ok := s2.Notice(); ok || s2.Recovered() {
				t.Errorf("notice survived ClearNotice (Recovered %v)", s2.Recovered())
			}
		})
	}
}

func TestEmptyFileIsNew(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), nil, 0o600)
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.Notice(); ok {
		t.Error("an empty (never written) file was treated as damaged")
	}
}

func TestLockedFileIsNotDamaged(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(dir, Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("a locked file was moved aside: %v", names)
	}
}

func TestUnwritableDirFails(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("Open in a read-only directory succeeded")
	}
}

// TestAddedBucketsOnOldFile: a file written before a bucket was added is
// sound; opening it adds the bucket and keeps the data.
func TestAddedBucketsOnOldFile(t *testing.T) {
	dir := t.TempDir()
	fill(t, dir)
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(BucketCommands) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.Notice(); ok {
		t.Fatal("a file without a later bucket was taken as damaged")
	}
	s.DB().View(func(tx *bolt.Tx) error {
		if tx.Bucket(BucketCommands) == nil {
			t.Error("commands bucket not added")
		}
		if n := tx.Bucket(BucketPunchesPending).Stats().KeyN; n != 3000 {
			t.Errorf("pending punches: %d, want 3000", n)
		}
		return nil
	})
}

// Bucket names are the file's layout: acked punches stay in punches_synced,
// the name from before "synced" meant only "acked", so files on clocks open.
func TestAckedBucketKeepsItsName(t *testing.T) {
	if got := string(BucketPunchesAcked); got != "punches_synced" {
		t.Fatalf("BucketPunchesAcked = %q", got)
	}
}

func TestLastGoodNeverGoesBack(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.LastGood().IsZero() {
		t.Fatalf("new file's last-good = %v", s.LastGood())
	}
	t1 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for _, tt := range []time.Time{t1, t1.Add(-time.Hour), time.Unix(0, 0)} {
		if err := s.SaveLastGood(tt); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.LastGood(); !got.Equal(t1) {
		t.Errorf("last-good after reopen = %v, want %v", got, t1)
	}
}

// TestSetAsideFilesAreBounded: a clock damaged again and again keeps the
// newest KeepAside damaged files, not a disk full of them.
func TestSetAsideFilesAreBounded(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	for i := range KeepAside + 3 {
		s, err := Open(dir, Options{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		os.WriteFile(filepath.Join(dir, FileName), []byte(strings.Repeat("garbage!", 1000+i)), 0o600)
		clk.Advance(time.Hour)
	}
	s, err := Open(dir, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	aside, err := Damaged(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(aside) != KeepAside {
		t.Fatalf("%d damaged files kept, want %d: %v", len(aside), KeepAside, aside)
	}
	if want := int64(8 * (1000 + KeepAside + 2)); aside[len(aside)-1].Size != want {
		t.Errorf("newest kept is %d bytes, want the last damaged one (%d)", aside[len(aside)-1].Size, want)
	}
}

// TestStorageLost: a state file gone or empty while the marker says the
// clock had one is "storage lost", never a silent new clock; a directory
// in its place is moved aside.
func TestStorageLost(t *testing.T) {
	for _, tc := range []struct {
		name  string
		do    func(path string)
		aside bool
	}{
		{"missing", func(p string) { os.Remove(p) }, false},
		{"empty", func(p string) { os.WriteFile(p, nil, 0o600) }, true},
		{"a directory", func(p string) { os.Remove(p); os.Mkdir(p, 0o700) }, true},
		{"a dangling link", func(p string) { os.Remove(p); os.Symlink(p+".nowhere", p) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fill(t, dir)
			tc.do(filepath.Join(dir, FileName))
			var logBuf bytes.Buffer
			s, err := Open(dir, Options{Clock: clock.NewFake(t0), Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			n, ok := s.Notice()
			if !ok || !n.Lost || !strings.HasPrefix(n.Summary(), "storage lost") {
				t.Errorf("notice %+v %v", n, ok)
			}
			if (n.Aside != "") != tc.aside {
				t.Errorf("aside %q", n.Aside)
			}
			if !strings.Contains(logBuf.String(), "storage lost") {
				t.Errorf("not logged:\n%s", logBuf.String())
			}
		})
	}
	// A new clock (no marker, no identity): no notice.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), nil, 0o600)
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.Notice(); ok {
		t.Error("a new clock's empty file got a notice")
	}
	// An identity without any state file: lost.
	dir2 := t.TempDir()
	s2, err := Open(dir2, Options{HadState: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n, ok := s2.Notice(); !ok || !n.Lost {
		t.Errorf("identity without a state file: notice %+v %v", n, ok)
	}
}

// TestHugeFreelistCount: a freelist page claiming 2^28 ids (bbolt would
// allocate 2 GiB copying them, or read past the page) is damage, found
// before bbolt reads it.
func TestHugeFreelistCount(t *testing.T) {
	dir := t.TempDir()
	path := fill(t, dir)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	metas := readMetas(f)
	f.Close()
	if len(metas) != 2 || metas[0].freelist == noFreelist {
		t.Fatalf("metas %+v", metas)
	}
	off := int(metas[0].freelist) * int(metas[0].pageSize)
	binary.NativeEndian.PutUint16(b[off+10:], 0xFFFF)
	binary.NativeEndian.PutUint64(b[off+pageHeader:], 1<<28)
	os.WriteFile(path, b, 0o600)
	s, err := Open(dir, Options{Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, ok := s.Notice()
	if !ok || !strings.Contains(n.Reason, "freelist") {
		t.Fatalf("notice %+v %v", n, ok)
	}
	if n.Salvaged < 3000 {
		t.Errorf("salvaged %d records, want the 3000 punches", n.Salvaged)
	}
}

// TestDamagedCounters: a pending counter that disagrees with the records
// (a damaged one refuses every punch as "storage full") and a last
// sequence number below a stored key (the next punch would overwrite one)
// are damage; the salvaged file keeps every record.
func TestDamagedCounters(t *testing.T) {
	rules := []Rule{{Bucket: BucketPunchesPending, CountKey: KeyPending, OrderKey: KeyLastSeq}}
	for _, tc := range []struct {
		name, reason string
		pending      uint64
	}{
		{"pending counter", "meta pending says 0", 0},
		{"last sequence number", "below punches_pending's key", 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := fill(t, dir) // 3000 records; meta says pending 0, last_seq 0
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Update(func(tx *bolt.Tx) error { return tx.Bucket(BucketMeta).Put(KeyPending, PutUint(tc.pending)) })
			db.Close()
			s, err := Open(dir, Options{Clock: clock.NewFake(t0), Rules: rules})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			n, ok := s.Notice()
			if !ok || !strings.Contains(n.Reason, tc.reason) || n.Salvaged < 3000 {
				t.Fatalf("notice %+v %v, want %q and 3000 records", n, ok, tc.reason)
			}
		})
	}
}
