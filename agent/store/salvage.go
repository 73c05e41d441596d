package store

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/clock"
)

// A Rule teaches Open the records of one bucket. Open checks every record
// of the bucket against it before the file is used, so a damaged record is
// found at start, not by a transaction half-way through a punch; salvage
// keeps only records that pass.
type Rule struct {
	Bucket []byte
	// Check says why k, v is not a sound record of Bucket (nil when it is).
	Check func(k, v []byte) error
	// Claim, when set, also takes records found outside the tree (the
	// children of a damaged branch page, the last commit behind a damaged
	// meta page, freed pages): ok says k, v is one of Bucket's records, and
	// of several copies of one key the highest rank wins. A copy in the
	// tree wins over any loose one. Without Claim the bucket keeps only
	// what its tree still holds.
	Claim func(k, v []byte) (rank uint64, ok bool)
	// CountKey, when set, is the meta key that counts the bucket's
	// records; OrderKey the meta key that is at least every key of the
	// bucket (8-byte sequence numbers). A damaged counter would refuse
	// every punch as "storage full"; a sequence number below a stored key
	// would overwrite a punch with the next.
	CountKey, OrderKey []byte
}

// KeepAside is how many set-aside state files (and other things found in
// the state file's place) the state directory keeps; the oldest go first.
const KeepAside = 3

// seqGap is how far a salvaged file's sequence jumps when the clock is
// not set (when it is, the sequence starts at the wall clock's
// milliseconds, as a fresh file after damage always has).
const seqGap = 1 << 20

// salvageSuffix names the fresh file salvage writes before it replaces
// the damaged one.
const salvageSuffix = ".salvage"

// salvaged is what salvage read from a damaged file.
type salvaged struct {
	records map[string]map[string][]byte // bucket -> key -> value
	rank    map[string]map[string]uint64 // for loose copies
	tree    map[string]map[string]bool   // the key's value came from the tree
	kept    int                          // records kept, all buckets
	dropped int                          // records read but refused by a rule
	bad     int                          // pages or records that could not be read
}

// metaClaim takes the meta keys a stale copy of the root page can give
// back when the tree's meta is gone: the nonce (punch IDs stay the same),
// the highest sequence and the file's birth.
func metaClaim(k, v []byte) (uint64, bool) {
	switch {
	case bytes.Equal(k, KeyNonce):
		return 0, len(v) == 8
	case bytes.Equal(k, KeyNonceCheck):
		_, ok := checkedNonce(v)
		return 0, ok
	case bytes.Equal(k, KeyLastSeq), bytes.Equal(k, KeyLastGood):
		n, ok := Uint(v)
		return n, ok
	case bytes.Equal(k, KeyCreated):
		_, ok := Uint(v)
		return 0, ok
	}
	return 0, false
}

// salvage reads every record it can from the damaged file at path.
func salvage(path string, rules []Rule) (*salvaged, error) {
	sc, _, err := scanFile(path)
	if err != nil {
		return nil, err
	}
	byName := map[string]Rule{string(BucketMeta): {Bucket: BucketMeta, Claim: metaClaim}}
	for _, r := range rules {
		byName[string(r.Bucket)] = r
	}
	sv := &salvaged{
		records: map[string]map[string][]byte{},
		rank:    map[string]map[string]uint64{},
		tree:    map[string]map[string]bool{},
		bad:     sc.bad,
	}
	put := func(bucket string, k, v []byte, rank uint64, tree bool) {
		if sv.records[bucket] == nil {
			sv.records[bucket] = map[string][]byte{}
			sv.rank[bucket] = map[string]uint64{}
			sv.tree[bucket] = map[string]bool{}
		}
		_, had := sv.records[bucket][string(k)]
		switch {
		case !had:
		case sv.tree[bucket][string(k)]:
			return
		case !tree && sv.rank[bucket][string(k)] >= rank:
			return
		}
		sv.records[bucket][string(k)] = bytes.Clone(v)
		sv.rank[bucket][string(k)] = rank
		sv.tree[bucket][string(k)] = tree
	}
	for _, kv := range sc.kvs {
		if kv.tree {
			r, ok := byName[string(kv.bucket)]
			if ok && r.Check != nil && r.Check(kv.k, kv.v) != nil {
				sv.dropped++
				continue
			}
			var rank uint64
			if ok && r.Claim != nil {
				rank, _ = r.Claim(kv.k, kv.v)
			}
			put(string(kv.bucket), kv.k, kv.v, rank, true)
			continue
		}
		if kv.bucket != nil {
			// An inline bucket on a loose page: its name is known.
			if r, ok := byName[string(kv.bucket)]; ok && r.Claim != nil {
				if rank, ok := r.Claim(kv.k, kv.v); ok && (r.Check == nil || r.Check(kv.k, kv.v) == nil) {
					put(string(kv.bucket), kv.k, kv.v, rank, false)
				}
			}
			continue
		}
		for _, r := range rules {
			if r.Claim == nil {
				continue
			}
			if rank, ok := r.Claim(kv.k, kv.v); ok {
				put(string(r.Bucket), kv.k, kv.v, rank, false)
				break
			}
		}
	}
	for b, m := range sv.records {
		if b != string(BucketMeta) {
			sv.kept += len(m)
		}
	}
	return sv, nil
}

// writeSalvaged lays out a fresh file at path with what sv kept, a Notice
// and the rebuild mark (the journal recounts its punches from the records).
func writeSalvaged(path string, sv *salvaged, now time.Time, n *Notice) error {
	os.Remove(path)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range append(append([][]byte{}, buckets...), addedBuckets...) {
			bk, err := tx.CreateBucket(b)
			if err != nil {
				return err
			}
			if bytes.Equal(b, BucketMeta) {
				continue
			}
			m := sv.records[string(b)]
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			bk.FillPercent = 1
			for _, k := range keys {
				if err := bk.Put([]byte(k), m[k]); err != nil {
					return err
				}
			}
		}
		// The roster may have lost employees: version 0 and no source hash
		// let the next roster (the cloud's, the roster file) replace it.
		rh := tx.Bucket(BucketRoster)
		if err := rh.Put(KeyRosterVersion, PutUint(0)); err != nil {
			return err
		}
		if err := rh.Delete(KeyRosterSource); err != nil {
			return err
		}
		meta := tx.Bucket(BucketMeta)
		old := sv.records[string(BucketMeta)]
		for _, k := range [][]byte{KeyLastUsedBy, KeyLastGood, KeyTimezone, KeyDisabled, KeyCreated} {
			if v, ok := old[string(k)]; ok {
				if err := meta.Put(k, v); err != nil {
					return err
				}
			}
		}
		nonce := old[string(KeyNonce)]
		if c, ok := checkedNonce(old[string(KeyNonceCheck)]); ok {
			nonce = c // it proves itself; the plain copy may be the damaged one
		}
		if len(nonce) != 8 {
			nonce = make([]byte, 8)
			rand.Read(nonce)
			n.NewIDs = true
		}
		// The last sequence numbers handed out may be lost with their
		// records: start above any number the old file can have used, so a
		// punch ID (nonce, seq) never names two punches.
		seq, _ := Uint(old[string(KeyLastSeq)])
		seq += seqGap
		if clock.IsSet(now) && uint64(now.UnixMilli()) > seq {
			seq = uint64(now.UnixMilli())
		}
		if _, ok := old[string(KeyCreated)]; !ok {
			if err := meta.Put(KeyCreated, PutUint(uint64(now.UnixMilli()))); err != nil {
				return err
			}
		}
		nb, _ := json.Marshal(n)
		for _, p := range []struct{ k, v []byte }{
			{KeySchema, PutUint(SchemaVersion)},
			{KeyNonce, nonce},
			{KeyNonceCheck, sealNonce(nonce)},
			{KeyLastSeq, PutUint(seq)},
			{KeyPending, PutUint(0)},
			{KeyUnsetClock, PutUint(0)},
			{KeyRebuild, PutUint(1)},
			{KeyRecovered, nb},
		} {
			if err := meta.Put(p.k, p.v); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("store: write salvaged file: %w", err)
	}
	return nil
}

// finishSalvage completes a salvage cut short between setting the damaged
// file aside and putting the salvaged one in its place (the salvaged file
// is complete: it was closed, so fsynced, before the damaged one moved).
// A salvaged file beside a state file is an unfinished salvage: dropped.
func finishSalvage(path string) {
	tmp := path + salvageSuffix
	if _, err := os.Lstat(tmp); err != nil {
		return
	}
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		if os.Rename(tmp, path) == nil {
			syncDir(filepath.Dir(path))
		}
		return
	}
	os.Remove(tmp)
}

// pruneAside removes the oldest set-aside files beyond keep.
func pruneAside(dir string, keep int, log func(name string, err error)) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var aside []string
	for _, e := range ents { // sorted by name: by when they were set aside
		if strings.HasPrefix(e.Name(), FileName+".damaged-") {
			aside = append(aside, e.Name())
		}
	}
	for len(aside) > keep {
		err := os.RemoveAll(filepath.Join(dir, aside[0]))
		log(aside[0], err)
		aside = aside[1:]
	}
}
