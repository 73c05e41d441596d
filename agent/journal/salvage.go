package journal

import (
	"bytes"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/store"
)

// Rules are the journal's buckets for store.Open: every record is checked
// before the file is used (a damaged one is found at start, not half-way
// through a punch), and a salvage takes punches found anywhere in a damaged
// file, not only where its tree still points.
func Rules() []store.Rule {
	seqKeyOK := func(k []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("%w: key of %d bytes", errRecord, len(k))
		}
		return nil
	}
	return []store.Rule{
		{
			Bucket:   store.BucketPunchesPending,
			CountKey: store.KeyPending, OrderKey: store.KeyLastSeq,
			Check: func(k, v []byte) error { _, err := punchRecord(k, v, StatePending); return err },
			Claim: func(k, v []byte) (uint64, bool) {
				p, err := punchRecord(k, v, StatePending)
				if err != nil {
					return 0, false
				}
				if p.Corrected {
					return 1, true // a corrected copy is newer than the uncorrected one
				}
				return 0, true
			},
		},
		{
			Bucket:   store.BucketPunchesAcked,
			OrderKey: store.KeyLastSeq,
			Check:    func(k, v []byte) error { _, err := punchRecord(k, v, StateAcked); return err },
			Claim: func(k, v []byte) (uint64, bool) {
				_, err := punchRecord(k, v, StateAcked)
				return 0, err == nil
			},
		},
		{Bucket: store.BucketUnsetClock, CountKey: store.KeyUnsetClock, Check: func(k, _ []byte) error { return seqKeyOK(k) }},
		{Bucket: store.BucketCorrections, Check: func(k, _ []byte) error { return seqKeyOK(k) }},
		{Bucket: store.BucketLastPunch, Check: func(k, v []byte) error {
			if !strings.HasPrefix(string(k), store.SubjectEmployee) && !strings.HasPrefix(string(k), store.SubjectBadge) {
				return fmt.Errorf("%w: subject %q", errRecord, k)
			}
			_, err := decodeLast(v)
			return err
		}},
	}
}

// punchRecord decodes a punch stored under key k in the bucket of state.
func punchRecord(k, v []byte, state State) (Punch, error) {
	seq, ok := store.Uint(k)
	if !ok {
		return Punch{}, fmt.Errorf("%w: key of %d bytes", errRecord, len(k))
	}
	p, err := checkRecord(v)
	if err != nil {
		return Punch{}, err
	}
	if p.Seq != seq {
		return Punch{}, fmt.Errorf("%w: seq %d under key %d", errRecord, p.Seq, seq)
	}
	if p.State != state {
		return Punch{}, fmt.Errorf("%w: %s punch in the %s bucket", errRecord, p.State, state)
	}
	return p, nil
}

// rebuild recounts a salvaged file from its punches: a punch both pending
// and acked is acked; the pending and unset-clock counts, the unset-clock
// and corrections lists, each subject's last punch and the last sequence
// number follow from the punches kept. It runs once, at the first open
// after a salvage (meta/rebuild), in one transaction.
func rebuild(tx *bolt.Tx) error {
	meta := tx.Bucket(store.BucketMeta)
	if meta.Get(store.KeyRebuild) == nil {
		return nil
	}
	pb := tx.Bucket(store.BucketPunchesPending)
	ab := tx.Bucket(store.BucketPunchesAcked)
	ub := tx.Bucket(store.BucketUnsetClock)
	cb := tx.Bucket(store.BucketCorrections)
	lb := tx.Bucket(store.BucketLastPunch)
	seq, _ := store.Uint(meta.Get(store.KeyLastSeq))
	lasts := map[string]last{}
	var drop [][]byte
	var pending uint64
	type unsetRec struct{ k, boot []byte }
	var addUnset []unsetRec
	visit := func(b *bolt.Bucket, isPending bool) error {
		return b.ForEach(func(k, v []byte) error {
			if isPending && ab.Get(k) != nil {
				drop = append(drop, bytes.Clone(k))
				return nil
			}
			p, err := decode(v)
			if err != nil {
				return err
			}
			if isPending {
				pending++
				if p.BootID != "" && !p.Source.Known() && ub.Get(k) == nil {
					addUnset = append(addUnset, unsetRec{bytes.Clone(k), []byte(p.BootID)})
				}
			}
			seq = max(seq, p.Seq)
			subj := subject(p)
			if l, ok := lasts[subj]; !ok || l.Seq < p.Seq {
				lasts[subj] = last{Seq: p.Seq, Kind: p.Kind, Time: p.Time, Department: p.Department}
			}
			return nil
		})
	}
	if err := visit(pb, true); err != nil {
		return err
	}
	if err := visit(ab, false); err != nil {
		return err
	}
	for _, k := range drop {
		if err := pb.Delete(k); err != nil {
			return err
		}
	}
	for _, u := range addUnset {
		if err := ub.Put(u.k, u.boot); err != nil {
			return err
		}
	}
	// Only pending punches wait for a clock correction.
	var unset uint64
	drop = drop[:0]
	ub.ForEach(func(k, _ []byte) error {
		if pb.Get(k) == nil {
			drop = append(drop, bytes.Clone(k))
		} else {
			unset++
		}
		return nil
	})
	for _, k := range drop {
		if err := ub.Delete(k); err != nil {
			return err
		}
	}
	drop = drop[:0]
	cb.ForEach(func(k, _ []byte) error {
		if pb.Get(k) == nil && ab.Get(k) == nil {
			drop = append(drop, bytes.Clone(k))
		}
		return nil
	})
	for _, k := range drop {
		if err := cb.Delete(k); err != nil {
			return err
		}
	}
	for subj, l := range lasts {
		if v := lb.Get([]byte(subj)); v != nil {
			if old, err := decodeLast(v); err == nil && old.Seq >= l.Seq {
				continue
			}
		}
		if err := lb.Put([]byte(subj), encodeLast(l)); err != nil {
			return err
		}
	}
	for _, kv := range []struct{ k, v []byte }{
		{store.KeyLastSeq, store.PutUint(seq)},
		{store.KeyPending, store.PutUint(pending)},
		{store.KeyUnsetClock, store.PutUint(unset)},
	} {
		if err := meta.Put(kv.k, kv.v); err != nil {
			return err
		}
	}
	return meta.Delete(store.KeyRebuild)
}
