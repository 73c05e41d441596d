package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// rssFile is this process's file-backed resident memory (RssFile), bytes.
func rssFile(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte("RssFile:")); ok {
			kb, err := strconv.ParseInt(string(bytes.Fields(v)[0]), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// TestReleaseMapped: the pages a read touched leave the resident set, and
// every value reads back the same afterwards.
func TestReleaseMapped(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bucket := []byte("bench-release")
	val := bytes.Repeat([]byte("x"), 1000)
	const n = 16_000 // ~16 MiB of values
	for i := 0; i < n; i += 1000 {
		if err := s.DB().Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			for k := i; k < i+1000; k++ {
				if err := b.Put([]byte(fmt.Sprintf("%08d", k)), val); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	readAll := func() {
		t.Helper()
		if err := s.DB().View(func(tx *bolt.Tx) error {
			c, got := tx.Bucket(bucket).Cursor(), 0
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if !bytes.Equal(v, val) {
					return fmt.Errorf("key %s: value changed", k)
				}
				got++
			}
			if got != n {
				return fmt.Errorf("%d values, want %d", got, n)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	readAll()
	before := rssFile(t)
	if err := s.ReleaseMapped(); err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	if before-after < 8<<20 {
		t.Errorf("RssFile %d KiB -> %d KiB after the release: the state file's pages stayed mapped", before>>10, after>>10)
	}
	readAll()
}

// TestOpenDoesNotMapTheWholeFile: the open's full check (every page, every
// record of the buckets the rules know) does not leave the state file
// resident in the process while it reads it: sampled every millisecond, the
// file-backed resident set never grows by a quarter of the file (it grew by
// all of it when bbolt's Tx.Check read the file through the map).
func TestOpenDoesNotMapTheWholeFile(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	bucket, val := []byte("rss-check"), bytes.Repeat([]byte("v"), 200)
	const n = 80_000 // ~16 MB of values
	for i := 0; i < n; i += 10_000 {
		if err := s.DB().Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			for k := i; k < i+10_000; k++ {
				if err := b.Put([]byte(fmt.Sprintf("%08d", k)), val); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	var records atomic.Int64
	rules := []Rule{{Bucket: bucket, Check: func(k, v []byte) error { records.Add(1); return nil }}}

	base := rssFile(t)
	var peak atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak.Store(max(peak.Load(), rssFile(t)))
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	s, err = Open(dir, Options{Rules: rules})
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, damaged := s.Notice(); damaged || records.Load() != n {
		t.Fatalf("the check saw %d records (want %d), damage %v", records.Load(), n, damaged)
	}
	if grew := peak.Load() - base; grew > fi.Size()/4 {
		t.Errorf("RssFile grew by %d KiB while opening a %d KiB file: its pages stayed mapped", grew>>10, fi.Size()>>10)
	}
	t.Logf("RssFile %d KiB before, peak %d KiB while opening a %d KiB file", base>>10, peak.Load()>>10, fi.Size()>>10)
}
