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
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
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

// Notice records that the state file was found damaged or lost when this
// one started. It stays in the file (and on the idle screen, and in the
// check-ins) until service clears it.
type Notice struct {
	Reason string    `json:"reason"`
	Aside  string    `json:"aside,omitempty"` // where the damaged file was moved
	At     time.Time `json:"at"`
	// Lost: nothing was left to read (the file gone, empty, or not a file)
	// though the clock had one.
	Lost bool `json:"lost,omitempty"`
	// Salvaged counts the records read back from the damaged file into this
	// one (punches, roster entries, ...); Unreadable the pages or records
	// that could not be read.
	Salvaged   int `json:"salvaged,omitempty"`
	Unreadable int `json:"unreadable,omitempty"`
	// NewIDs: the file's nonce was lost, so salvaged punches got new IDs.
	NewIDs bool `json:"new_ids,omitempty"`
}

// Summary is the notice in one line, for the log, the console and the
// check-in.
func (n Notice) Summary() string {
	what := "storage damaged"
	if n.Lost {
		what = "storage lost"
	}
	s := fmt.Sprintf("%s at %s: %s", what, n.At.UTC().Format(time.RFC3339), n.Reason)
	if !n.Lost {
		s += fmt.Sprintf("; %d records salvaged, %d unreadable", n.Salvaged, n.Unreadable)
	}
	if n.NewIDs {
		s += "; punch IDs renewed"
	}
	return s
}

// Options are Open's injected dependencies.
type Options struct {
	Logger *slog.Logger
	Clock  clock.Clock
	// LockTimeout is how long to wait for another process's lock.
	LockTimeout time.Duration
	// Rules check the records of the buckets that other packages own (the
	// journal's, the roster's) at every open, and steer salvage.
	Rules []Rule
	// HadState: the clock has shown that it had a state file (its cloud
	// identity exists), so a missing or empty one is "storage lost", not a
	// new clock. The marker file beside the state file says the same for a
	// clock without a cloud.
	HadState bool
}

// Store is the open state file.
type Store struct {
	db  *bolt.DB
	log *slog.Logger
	// recovered mirrors the Notice in the file, for the idle screen that
	// asks at every redraw.
	recovered atomic.Bool
}

// Open opens (or creates) STATE_DIR/state.db. Every page and record is
// checked first; a damaged file is salvaged (every record that can still
// be read goes into a fresh file), set aside, and the fresh file carries a
// Notice. A file gone or empty while the clock had one gets a Notice too.
// Open fails only when no file can be used at all (locked, permissions, a
// full or read-only disk).
func Open(dir string, o Options) (*Store, error) {
	s, err := open(dir, o)
	if err != nil {
		return nil, err
	}
	_, ok := s.Notice()
	s.recovered.Store(ok)
	return s, nil
}

// errEmpty: the state file has no bytes.
var errEmpty = errors.New("store: empty state file")

// notFileError: something other than a file is in the state file's place.
type notFileError struct{ reason string }

func (e *notFileError) Error() string { return "store: " + e.reason }

func notFile(format string, args ...any) error {
	return &notFileError{reason: fmt.Sprintf(format, args...)}
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
	finishSalvage(path)
	hadState := o.HadState || markerExists(dir)
	err := precheck(path)
	var db *bolt.DB
	if err == nil {
		db, err = openChecked(path, o.LockTimeout, o.Rules)
	}
	if err == nil {
		fresh := isNew(db)
		if fresh && hadState {
			// bbolt laid out a file where there was none.
			db.Close()
			os.Remove(path)
			return startLost(dir, o, "the state file is missing", "")
		}
		return ready(dir, o, db, nil)
	}
	var ce *CorruptError
	var nf *notFileError
	switch {
	case errors.Is(err, errEmpty):
		if !hadState {
			os.Remove(path) // created but never written: a new clock
			return startNew(dir, o)
		}
		aside, mvErr := moveAside(path, o.Clock.Now())
		if mvErr != nil {
			return nil, fmt.Errorf("store: set aside %s: %w (it was empty)", path, mvErr)
		}
		return startLost(dir, o, "the state file is empty", aside)
	case errors.As(err, &nf):
		aside, mvErr := moveAside(path, o.Clock.Now())
		if mvErr != nil {
			return nil, fmt.Errorf("store: set aside %s: %w (%s)", path, mvErr, nf.reason)
		}
		return startLost(dir, o, nf.reason, aside)
	case errors.As(err, &ce):
		return recoverDamaged(dir, o, ce.Reason)
	}
	return nil, err
}

// isNew: bbolt just laid the file out (no meta bucket yet).
func isNew(db *bolt.DB) bool {
	fresh := false
	db.View(func(tx *bolt.Tx) error {
		fresh = tx.Bucket(BucketMeta) == nil
		return nil
	})
	return fresh
}

// startNew lays out a new clock's file.
func startNew(dir string, o Options) (*Store, error) {
	db, err := openChecked(filepath.Join(dir, FileName), o.LockTimeout, nil)
	if err != nil {
		return nil, err
	}
	return ready(dir, o, db, nil)
}

// startLost starts a fresh file for a clock whose file is gone: nothing to
// salvage, said loudly.
func startLost(dir string, o Options, reason, aside string) (*Store, error) {
	now := o.Clock.Now()
	n := &Notice{Reason: reason, Aside: filepath.Base(aside), At: now.UTC(), Lost: true}
	if aside == "" {
		n.Aside = ""
	}
	o.Logger.Error("storage lost: the clock had a state file and it is gone; a fresh one is started; call service",
		"reason", reason, "aside", n.Aside)
	pruneAside(dir, KeepAside, pruneLog(o.Logger))
	db, err := openChecked(filepath.Join(dir, FileName), o.LockTimeout, nil)
	if err != nil {
		return nil, fmt.Errorf("store: fresh state file: %w", err)
	}
	return ready(dir, o, db, n)
}

// recoverDamaged salvages the damaged file into a fresh one, sets the
// damaged one aside and opens the fresh one.
func recoverDamaged(dir string, o Options, reason string) (*Store, error) {
	path := filepath.Join(dir, FileName)
	now := o.Clock.Now()
	n := &Notice{Reason: reason, At: now.UTC()}
	tmp := path + salvageSuffix
	// Room first: the damaged file about to be set aside counts.
	pruneAside(dir, KeepAside-1, pruneLog(o.Logger))
	sv, err := salvage(path, o.Rules)
	if err == nil {
		n.Salvaged, n.Unreadable = sv.kept, sv.bad+sv.dropped
		err = writeSalvaged(tmp, sv, now, n)
	}
	if err != nil && diskFull(err) {
		// No room for the salvaged copy: the damaged file stays where it
		// is, whole, and the next try (the agent retries) salvages it.
		os.Remove(tmp)
		return nil, fmt.Errorf("store: damaged state file (%s) not salvaged yet: %w", reason, err)
	}
	if err != nil {
		// Nothing salvaged (the disk is full, ...): the damaged file is
		// still set aside, whole, for service.
		o.Logger.Error("storage damaged: salvage failed", "err", err)
		os.Remove(tmp)
		tmp = ""
		n.Salvaged, n.Unreadable = 0, 0
	}
	aside, err := moveAside(path, now)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("store: set aside %s: %w (it was damaged: %s)", path, err, reason)
	}
	n.Aside = filepath.Base(aside)
	if tmp != "" {
		// The notice in the salvaged file must name the aside file too.
		if err := setNotice(tmp, n); err == nil {
			err = os.Rename(tmp, path)
		}
		if err != nil {
			o.Logger.Error("storage damaged: salvaged file not usable", "err", err)
			os.Remove(tmp)
		}
		syncDir(dir)
	}
	o.Logger.Error("storage damaged: the state file was set aside and what could be read salvaged into a fresh one; call service",
		"reason", reason, "aside", n.Aside, "salvaged", n.Salvaged, "unreadable", n.Unreadable)
	pruneAside(dir, KeepAside, pruneLog(o.Logger))
	db, err := openChecked(path, o.LockTimeout, o.Rules)
	if err != nil {
		// The salvaged file itself fails its check (or there is none):
		// start empty rather than loop.
		if db != nil {
			db.Close()
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			moveAside(path, now)
			o.Logger.Error("storage damaged: salvaged file refused, starting empty", "err", err)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("store: fresh state file: %w", err)
		}
		db, err = openChecked(path, o.LockTimeout, nil)
		if err != nil {
			return nil, fmt.Errorf("store: fresh state file: %w", err)
		}
		n.Salvaged = 0
	}
	return ready(dir, o, db, n)
}

// ready finishes an open file: lays it out if new (with n, when it
// replaces a damaged or lost one), adds buckets, writes the marker.
func ready(dir string, o Options, db *bolt.DB, n *Notice) (*Store, error) {
	s := &Store{db: db, log: o.Logger}
	if err := s.initIfNew(o.Clock.Now(), n); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.addBuckets(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.addNonceCheck(); err != nil {
		db.Close()
		return nil, err
	}
	if err := writeMarker(dir); err != nil {
		o.Logger.Warn("state marker not written", "err", err)
	}
	return s, nil
}

// diskFull: the error is the disk's (full, over quota, read-only), not
// the file's.
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS)
}

func pruneLog(log *slog.Logger) func(string, error) {
	return func(name string, err error) {
		if err != nil {
			log.Warn("old set-aside state file not removed", "file", name, "err", err)
			return
		}
		log.Info("old set-aside state file removed", "file", name, "keep", KeepAside)
	}
}

// setNotice replaces the Notice in the closed file at path.
func setNotice(path string, n *Notice) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	b, _ := json.Marshal(n)
	err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket(BucketMeta).Put(KeyRecovered, b) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// MarkerName is the file beside the state file that says this clock has
// had one: a state file missing or empty while it exists is "storage
// lost", not a new clock.
const MarkerName = FileName + ".present"

func markerExists(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, MarkerName))
	return err == nil
}

func writeMarker(dir string) error {
	if markerExists(dir) {
		return nil
	}
	p := filepath.Join(dir, MarkerName)
	f, err := os.OpenFile(p+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString("timeclock: this clock has a state file; if it is missing, storage was lost\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		return err
	}
	return syncDir(dir)
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

// openChecked opens the file with bbolt after checking its meta pages and
// every page of its tree by hand, with plain reads (precheck: a truncated
// file would otherwise fault inside the mmap; the tree check is bbolt's
// Tx.Check, which would read the whole file through the map into the
// agent's memory), then walks every record the rules know and checks our
// own layout: a damaged leaf must be found here, not by a transaction in
// the middle of a punch. Faults and panics while doing so mean a damaged
// file.
func openChecked(path string, lockTimeout time.Duration, rules []Rule) (db *bolt.DB, err error) {
	if err := precheck(path); err != nil && !errors.Is(err, errEmpty) {
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
	if err := verify(db, rules); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// releaseBytes is how many bytes of records the open's walk reads between
// two releases of the mapped pages it read.
const releaseBytes = 1 << 20

// verify is the read-only walk at open after checkTree (which did bbolt's
// page check, Tx.Check's, with plain reads before bbolt mapped the file):
// our layout, then every record of the buckets the rules know. It reads
// the records through bbolt's map and drops the pages it read every
// releaseBytes of records, so the file is never resident in the agent
// whole (32 MiB at 200,000 punches, over the clock's RSS budget).
func verify(db *bolt.DB, rules []Rule) error {
	return db.View(func(tx *bolt.Tx) error {
		defer releaseTx(db, tx)
		if err := checkLayoutTx(tx); err != nil {
			return err
		}
		if tx.Bucket(BucketMeta) == nil {
			return nil // a new file
		}
		meta := tx.Bucket(BucketMeta)
		// A salvaged file's counters are recounted at the journal's open.
		counted := meta.Get(KeyRebuild) == nil
		read := 0 // bytes of records since the last release
		for _, r := range rules {
			b := tx.Bucket(r.Bucket)
			if b == nil {
				continue
			}
			var n uint64
			err := b.ForEach(func(k, v []byte) error {
				n++
				if read += len(k) + len(v); read >= releaseBytes {
					read = 0
					if err := releaseTx(db, tx); err != nil {
						return err
					}
				}
				if v == nil {
					return corrupt("%s: a bucket %q inside", r.Bucket, k)
				}
				if r.Check == nil {
					return nil
				}
				if err := r.Check(k, v); err != nil {
					return corrupt("%s %x: %v", r.Bucket, k, err)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if r.CountKey != nil && counted {
				if c, _ := Uint(meta.Get(r.CountKey)); c != n {
					return corrupt("meta %s says %d, %s holds %d", r.CountKey, c, r.Bucket, n)
				}
			}
			if r.OrderKey != nil && counted {
				if k, _ := b.Cursor().Last(); k != nil {
					last, ok := Uint(k)
					if top, _ := Uint(meta.Get(r.OrderKey)); !ok || top < last {
						return corrupt("meta %s is %d, below %s's key %x", r.OrderKey, top, r.Bucket, k)
					}
				}
			}
		}
		return nil
	})
}

// checkLayout accepts a brand-new (empty) file or one with our schema and
// every bucket; anything else is not ours to guess at.
func checkLayoutTx(tx *bolt.Tx) error {
	return func() error {
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
		if c := meta.Get(KeyNonceCheck); c != nil {
			nonce, ok := checkedNonce(c)
			switch {
			case !ok:
				return corrupt("meta nonce_check is damaged")
			case !bytes.Equal(nonce, meta.Get(KeyNonce)):
				return corrupt("meta nonce differs from its check copy")
			}
		}
		return nil
	}()
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sealNonce is the nonce's check copy: the nonce and its CRC-32C.
func sealNonce(nonce []byte) []byte {
	return binary.BigEndian.AppendUint32(bytes.Clone(nonce), crc32.Checksum(nonce, castagnoli))
}

// checkedNonce reads a check copy; false when it is damaged.
func checkedNonce(c []byte) ([]byte, bool) {
	if len(c) != 12 || crc32.Checksum(c[:8], castagnoli) != binary.BigEndian.Uint32(c[8:]) {
		return nil, false
	}
	return c[:8], true
}

// addNonceCheck writes the check copy of a file made before it existed.
func (s *Store) addNonceCheck() error {
	var nonce []byte
	s.db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(BucketMeta); meta != nil && meta.Get(KeyNonceCheck) == nil {
			nonce = bytes.Clone(meta.Get(KeyNonce))
		}
		return nil
	})
	if len(nonce) != 8 {
		return nil // it has one (no write, no fsync at every start)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(BucketMeta).Put(KeyNonceCheck, sealNonce(nonce))
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
			{KeyNonceCheck, sealNonce(nonce)},
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
