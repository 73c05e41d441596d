// Package store opens the clock's one durable state file (bbolt) and keeps
// it usable: a file that is damaged, torn or not ours is set aside under a
// timestamped name and a fresh one is started, so the clock never crash-loops
// on its own state. keys.go lists every bucket and key; the journal and the
// roster packages own what goes in them.
package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterr "go.etcd.io/bbolt/errors"

	"timeclock/clock"
)

// FileName is the state file's name under the state directory.
const FileName = "state.db"

// ErrLocked means another process has the state file open.
var ErrLocked = errors.New("store: state file is in use by another process")

// CorruptError says why a state file was not taken as sound.
type CorruptError struct{ Reason string }

func (e *CorruptError) Error() string { return "store: damaged state file: " + e.Reason }

func corrupt(format string, args ...any) error {
	return &CorruptError{Reason: fmt.Sprintf(format, args...)}
}

// Notice records that a damaged file was set aside when this one started.
// It stays in the file (and on the idle screen) until service clears it.
type Notice struct {
	Reason string    `json:"reason"`
	Aside  string    `json:"aside"` // where the damaged file was moved
	At     time.Time `json:"at"`
}

// Options are Open's injected dependencies.
type Options struct {
	Logger *slog.Logger
	Clock  clock.Clock
	// LockTimeout is how long to wait for another process's lock.
	LockTimeout time.Duration
}

// Store is the open state file.
type Store struct {
	db  *bolt.DB
	log *slog.Logger
	// recovered mirrors the Notice in the file, for the idle screen that
	// asks at every redraw.
	recovered atomic.Bool
}

// Open opens (or creates) STATE_DIR/state.db. A damaged file is moved aside
// and replaced by a fresh one carrying a Notice; Open fails only when the
// file cannot be used at all (locked, permissions, a full or read-only disk).
func Open(dir string, o Options) (*Store, error) {
	s, err := open(dir, o)
	if err != nil {
		return nil, err
	}
	_, ok := s.Notice()
	s.recovered.Store(ok)
	return s, nil
}

func open(dir string, o Options) (*Store, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 2 * time.Second
	}
	path := filepath.Join(dir, FileName)
	db, err := openChecked(path, o.LockTimeout)
	var ce *CorruptError
	if err == nil {
		s := &Store{db: db, log: o.Logger}
		if err := s.initIfNew(o.Clock.Now(), nil); err != nil {
			db.Close()
			return nil, err
		}
		if err := s.addBuckets(); err != nil {
			db.Close()
			return nil, err
		}
		return s, nil
	}
	if !errors.As(err, &ce) {
		return nil, err
	}
	now := o.Clock.Now()
	aside, mvErr := moveAside(path, now)
	if mvErr != nil {
		return nil, fmt.Errorf("store: set aside %s: %w (it was damaged: %s)", path, mvErr, ce.Reason)
	}
	o.Logger.Error("storage recovered: damaged state file set aside, fresh one started; call service",
		"reason", ce.Reason, "aside", aside)
	db, err = openChecked(path, o.LockTimeout)
	if err != nil {
		return nil, fmt.Errorf("store: fresh state file: %w", err)
	}
	s := &Store{db: db, log: o.Logger}
	n := &Notice{Reason: ce.Reason, Aside: filepath.Base(aside), At: now.UTC()}
	if err := s.initIfNew(now, n); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.addBuckets(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// addBuckets creates the buckets added after schema 1 in a file that
// predates them (a file written by an older release stays sound).
func (s *Store) addBuckets() error {
	missing := false
	s.db.View(func(tx *bolt.Tx) error {
		for _, b := range addedBuckets {
			missing = missing || tx.Bucket(b) == nil
		}
		return nil
	})
	if !missing {
		return nil // no write, no fsync at every start
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range addedBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("store: create %s: %w", b, err)
			}
		}
		return nil
	})
}

// openChecked opens the file with bbolt after checking its meta pages by
// hand (a truncated file would otherwise fault inside the mmap), then checks
// our own layout. Faults and panics while doing so mean a damaged file.
func openChecked(path string, lockTimeout time.Duration) (db *bolt.DB, err error) {
	if err := precheck(path); err != nil {
		return nil, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				func() { defer func() { recover() }(); db.Close() }()
			}
			db, err = nil, corrupt("fault while opening: %v", r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, FreelistType: bolt.FreelistMapType})
	switch {
	case errors.Is(err, bolterr.ErrTimeout):
		return nil, ErrLocked
	case errors.Is(err, bolterr.ErrInvalid), errors.Is(err, bolterr.ErrChecksum), errors.Is(err, bolterr.ErrVersionMismatch):
		return nil, corrupt("%v", err)
	case err != nil:
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := checkLayout(db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// checkLayout accepts a brand-new (empty) file or one with our schema and
// every bucket; anything else is not ours to guess at.
func checkLayout(db *bolt.DB) error {
	return db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(BucketMeta)
		if meta == nil {
			empty := true
			tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if empty {
				return nil
			}
			return corrupt("no %s bucket", BucketMeta)
		}
		v, ok := Uint(meta.Get(KeySchema))
		if !ok || v != SchemaVersion {
			return corrupt("schema %x, want %d", meta.Get(KeySchema), SchemaVersion)
		}
		for _, b := range buckets {
			if tx.Bucket(b) == nil {
				return corrupt("no %s bucket", b)
			}
		}
		for _, k := range [][]byte{KeyLastSeq, KeyPending, KeyUnsetClock} {
			if _, ok := Uint(meta.Get(k)); !ok {
				return corrupt("meta %s is %x", k, meta.Get(k))
			}
		}
		if len(meta.Get(KeyNonce)) != 8 {
			return corrupt("meta nonce is %x", meta.Get(KeyNonce))
		}
		return nil
	})
}

// initIfNew lays out a new file. After a recovery the sequence starts from
// the wall clock's milliseconds (when the clock is set), so sequence numbers
// stay strictly increasing across the lost file.
func (s *Store) initIfNew(now time.Time, n *Notice) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(BucketMeta) != nil {
			return nil
		}
		for _, b := range buckets {
			if _, err := tx.CreateBucket(b); err != nil {
				return fmt.Errorf("store: create %s: %w", b, err)
			}
		}
		meta := tx.Bucket(BucketMeta)
		nonce := make([]byte, 8)
		rand.Read(nonce)
		var base uint64
		if n != nil && clock.IsSet(now) {
			base = uint64(now.UnixMilli())
		}
		puts := []struct{ k, v []byte }{
			{KeySchema, PutUint(SchemaVersion)},
			{KeyCreated, PutUint(uint64(now.UnixMilli()))},
			{KeyNonce, nonce},
			{KeyLastSeq, PutUint(base)},
			{KeyPending, PutUint(0)},
			{KeyUnsetClock, PutUint(0)},
		}
		if n != nil {
			b, _ := json.Marshal(n)
			puts = append(puts, struct{ k, v []byte }{KeyRecovered, b})
		}
		for _, p := range puts {
			if err := meta.Put(p.k, p.v); err != nil {
				return fmt.Errorf("store: init %s: %w", p.k, err)
			}
		}
		return nil
	})
}

// moveAside renames the damaged file to state.db.damaged-YYYYMMDDTHHMMSSZ
// (with -2, -3... if that exists) and makes the rename durable.
func moveAside(path string, now time.Time) (string, error) {
	base := path + ".damaged-" + now.UTC().Format("20060102T150405Z")
	aside := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, os.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(path, aside); err != nil {
		return "", err
	}
	return aside, syncDir(filepath.Dir(path))
}

// DamagedFile is a damaged state file set aside in the state directory.
type DamagedFile struct {
	Name string // state.db.damaged-YYYYMMDDTHHMMSSZ, maybe with -2, -3...
	Size int64  // bytes
}

// Damaged lists the damaged state files set aside in dir, oldest first
// (their names sort by when they were set aside). They stay until service
// removes them.
func Damaged(dir string) ([]DamagedFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("store: damaged files: %w", err)
	}
	var out []DamagedFile
	for _, e := range ents { // ReadDir sorts by name
		if !strings.HasPrefix(e.Name(), FileName+".damaged-") || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, DamagedFile{Name: e.Name(), Size: fi.Size()})
	}
	return out, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// DB is the open bbolt database for the journal and roster packages.
func (s *Store) DB() *bolt.DB { return s.db }

// Path is the state file's path.
func (s *Store) Path() string { return s.db.Path() }

// Notice returns the recovery notice, if this file replaced a damaged one
// and service has not cleared it.
func (s *Store) Notice() (Notice, bool) {
	var n Notice
	var ok bool
	s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(BucketMeta).Get(KeyRecovered); v != nil {
			ok = json.Unmarshal(v, &n) == nil
		}
		return nil
	})
	return n, ok
}

// Recovered reports whether the file carries a recovery Notice, without
// reading the file.
func (s *Store) Recovered() bool { return s.recovered.Load() }

// ClearNotice removes the recovery notice (service has seen it).
func (s *Store) ClearNotice() error {
	err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(BucketMeta).Delete(KeyRecovered) })
	if err == nil {
		s.recovered.Store(false)
	}
	return err
}

// Check walks every page of the file (bbolt's consistency check). It reads
// the whole file, so it is for the technician, not for every start.
func (s *Store) Check() (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = corrupt("fault while checking: %v", r)
		}
	}()
	return s.db.View(func(tx *bolt.Tx) error {
		var errs []error
		for e := range tx.Check() {
			errs = append(errs, e)
			if len(errs) == 10 {
				break
			}
		}
		if len(errs) > 0 {
			return corrupt("%v", errors.Join(errs...))
		}
		return nil
	})
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// PutUint encodes v as 8 bytes big-endian, the encoding of every integer key
// and value in the file.
func PutUint(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// Uint decodes PutUint's encoding.
func Uint(b []byte) (uint64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}

// Disabled returns the disable record (JSON the agent owns, agent/disable.go), or nil when
// the clock is not disabled.
func (s *Store) Disabled() []byte {
	var v []byte
	s.db.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket(BucketMeta).Get(KeyDisabled))
		return nil
	})
	return v
}

// SetDisabled stores the disable record durably; nil removes it (the clock
// is being onboarded again).
func (s *Store) SetDisabled(v []byte) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(BucketMeta)
		if v == nil {
			return meta.Delete(KeyDisabled)
		}
		return meta.Put(KeyDisabled, v)
	})
	if err != nil {
		return fmt.Errorf("store: disabled: %w", err)
	}
	return nil
}

// LastGood returns the last-known-good time, or zero when none was saved.
func (s *Store) LastGood() time.Time {
	var t time.Time
	s.db.View(func(tx *bolt.Tx) error {
		if v, ok := Uint(tx.Bucket(BucketMeta).Get(KeyLastGood)); ok {
			t = time.UnixMilli(int64(v)).UTC()
		}
		return nil
	})
	return t
}

// SaveLastGood stores t as the last-known-good time, durably. It never
// lowers it: the floor never goes back.
func (s *Store) SaveLastGood(t time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(BucketMeta)
		if v, ok := Uint(meta.Get(KeyLastGood)); ok && int64(v) >= t.UnixMilli() {
			return nil
		}
		if t.UnixMilli() < 0 {
			return fmt.Errorf("time %v before 1970", t)
		}
		return meta.Put(KeyLastGood, PutUint(uint64(t.UnixMilli())))
	})
	if err != nil {
		return fmt.Errorf("store: last-known-good time: %w", err)
	}
	return nil
}

// Timezone returns the zone set at the console ("" when none).
func (s *Store) Timezone() string {
	var v string
	s.db.View(func(tx *bolt.Tx) error {
		v = string(tx.Bucket(BucketMeta).Get(KeyTimezone))
		return nil
	})
	return v
}

// SetTimezone stores the zone set at the console, durably.
func (s *Store) SetTimezone(zone string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(BucketMeta).Put(KeyTimezone, []byte(zone))
	})
	if err != nil {
		return fmt.Errorf("store: timezone: %w", err)
	}
	return nil
}
