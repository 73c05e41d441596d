package roster

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/store"

	"timeclock/wire"
)

// Keeper keeps the roster in the state file, and the current one in memory
// for lookups that never touch the disk.
type Keeper struct {
	db  *bolt.DB
	cur atomic.Pointer[Roster]

	mu      sync.Mutex
	changed chan struct{} // guarded by mu; closed and replaced by Replace
}

// Rules are the roster's buckets for store.Open: every stored employee
// must decode and pass the roster's checks, under its own ID, and the
// header's version and salt must have their sizes. A damaged roster is
// found at start; a salvage keeps the employees that still read (the
// roster is then at version 0, so the next roster replaces it).
func Rules() []store.Rule {
	return []store.Rule{
		{Bucket: store.BucketRosterEmployees, Check: func(k, v []byte) error {
			e, err := decodeEmployee(k, v)
			if err != nil {
				return err
			}
			return checkEmployee(0, &e)
		}},
		{Bucket: store.BucketRoster, Check: func(k, v []byte) error {
			switch {
			case bytes.Equal(k, store.KeyRosterVersion) && len(v) != 8,
				bytes.Equal(k, store.KeyRosterSalt) && len(v) < wire.PINSaltLen,
				bytes.Equal(k, store.KeyRosterSource) && len(v) != sha256.Size:
				return fmt.Errorf("roster: header %s of %d bytes", k, len(v))
			}
			return nil
		}},
	}
}

func decodeEmployee(k, v []byte) (Employee, error) {
	var e Employee
	if err := json.Unmarshal(v, &e); err != nil {
		return e, fmt.Errorf("employee %q: %w", k, err)
	}
	if e.ID != string(k) {
		return e, fmt.Errorf("employee %q stored under %q", e.ID, k)
	}
	return e, nil
}

// Open loads the stored roster (an empty one with a fresh salt if none).
// A stored roster that does not load (store.Open's rules pass each
// employee, but two may clash) is not a reason to stop the clock: it
// starts with an empty roster at version 0, which the next roster
// replaces, and says so in the error it returns beside the Keeper.
func Open(st *store.Store) (*Keeper, error) {
	k := &Keeper{db: st.DB(), changed: make(chan struct{})}
	var r *Roster
	var salt []byte
	err := k.db.View(func(tx *bolt.Tx) error {
		hdr := tx.Bucket(store.BucketRoster)
		ver, _ := store.Uint(hdr.Get(store.KeyRosterVersion))
		salt = bytes.Clone(hdr.Get(store.KeyRosterSalt))
		if len(salt) < wire.PINSaltLen {
			salt = make([]byte, wire.PINSaltLen)
			rand.Read(salt)
		}
		var emps []Employee
		err := tx.Bucket(store.BucketRosterEmployees).ForEach(func(k, v []byte) error {
			e, err := decodeEmployee(k, v)
			if err != nil {
				return err
			}
			emps = append(emps, e)
			return nil
		})
		if err != nil {
			return err
		}
		r, err = New(ver, salt, emps)
		return err
	})
	if err != nil {
		empty, _ := New(0, salt, nil)
		k.cur.Store(empty)
		return k, fmt.Errorf("roster: load: %w (starting with an empty roster until the next one)", err)
	}
	k.cur.Store(r)
	return k, nil
}

// Changed returns a channel closed when the roster is next replaced.
func (k *Keeper) Changed() <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.changed
}

// Current is the roster in force. It is immutable; hold it for a lookup.
func (k *Keeper) Current() *Roster { return k.cur.Load() }

// Replace stores r in place of the whole roster, in one transaction, and
// makes it current. source is the hash of the file it came from (nil for
// none), so an unchanged file is not imported again.
func (k *Keeper) Replace(r *Roster, source []byte) error {
	err := k.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(store.BucketRosterEmployees); err != nil {
			return err
		}
		eb, err := tx.CreateBucket(store.BucketRosterEmployees)
		if err != nil {
			return err
		}
		for _, e := range r.employees {
			v, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := eb.Put([]byte(e.ID), v); err != nil {
				return err
			}
		}
		hdr := tx.Bucket(store.BucketRoster)
		if err := hdr.Put(store.KeyRosterVersion, store.PutUint(r.version)); err != nil {
			return err
		}
		if err := hdr.Put(store.KeyRosterSalt, r.salt); err != nil {
			return err
		}
		if source == nil {
			return hdr.Delete(store.KeyRosterSource)
		}
		return hdr.Put(store.KeyRosterSource, source)
	})
	if err != nil {
		return fmt.Errorf("roster: replace: %w", err)
	}
	k.cur.Store(r)
	k.mu.Lock()
	close(k.changed)
	k.changed = make(chan struct{})
	k.mu.Unlock()
	return nil
}

// ErrOlder refuses a roster older than the stored one.
var ErrOlder = errors.New("roster: older than the stored roster")

// ImportResult says what ImportFile did.
type ImportResult struct {
	Unchanged bool // the same file was imported before
	Version   uint64
	Employees int
}

// ImportFile replaces the roster with a roster file. A bad file is rejected
// whole (a *FileError naming line and field) and the stored roster stays; so
// does a file older than the stored roster (ErrOlder).
func (k *Keeper) ImportFile(path string) (ImportResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ImportResult{}, fmt.Errorf("roster file: %w", err)
	}
	sum := sha256.Sum256(data)
	var stored []byte
	k.db.View(func(tx *bolt.Tx) error {
		stored = bytes.Clone(tx.Bucket(store.BucketRoster).Get(store.KeyRosterSource))
		return nil
	})
	cur := k.Current()
	if bytes.Equal(stored, sum[:]) {
		return ImportResult{Unchanged: true, Version: cur.version, Employees: cur.Len()}, nil
	}
	r, err := ParseFile(bytes.NewReader(data))
	if err != nil {
		return ImportResult{}, fmt.Errorf("%s: %w", path, err)
	}
	if r.version < cur.version {
		return ImportResult{}, fmt.Errorf("%s: version %d: %w (version %d)", path, r.version, ErrOlder, cur.version)
	}
	if err := k.Replace(r, sum[:]); err != nil {
		return ImportResult{}, err
	}
	return ImportResult{Version: r.version, Employees: r.Len()}, nil
}
