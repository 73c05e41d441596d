package journal

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/store"
)

// MarkAcked moves the punches the cloud acknowledged from pending to
// acked, durably, and returns how many moved. IDs that are not pending
// (already acked, compacted, or of another state file) are ignored, so a
// repeated acknowledgement is harmless.
func (j *Journal) MarkAcked(ids []ID, at time.Time) (int, error) {
	moved := 0
	var pend uint64
	err := j.db.Update(func(tx *bolt.Tx) error {
		moved = 0
		meta := tx.Bucket(store.BucketMeta)
		pb := tx.Bucket(store.BucketPunchesPending)
		sb := tx.Bucket(store.BucketPunchesAcked)
		sb.FillPercent = 1 // acknowledgements come mostly in sequence order
		pend, _ = store.Uint(meta.Get(store.KeyPending))
		for _, id := range ids {
			if [8]byte(id[:8]) != j.nonce {
				continue
			}
			k := seqKey(id.Seq())
			v := pb.Get(k)
			if v == nil {
				continue
			}
			p, err := decode(v)
			if err != nil {
				return fmt.Errorf("journal: punch %d: %w", id.Seq(), err)
			}
			p.State, p.AckedAt = StateAcked, at.UTC()
			rec, err := encode(p)
			if err != nil {
				return err
			}
			if err := pb.Delete(k); err != nil {
				return err
			}
			if err := sb.Put(k, rec); err != nil {
				return err
			}
			pend--
			moved++
		}
		return meta.Put(store.KeyPending, store.PutUint(pend))
	})
	if err != nil {
		return 0, fmt.Errorf("journal: mark acked: %w", err)
	}
	j.pending.Store(int64(pend))
	return moved, nil
}

// MarkAckedThrough marks every pending punch with Seq <= seq as acked
// (an acknowledgement of "everything up to seq stored") and returns how many
// moved.
func (j *Journal) MarkAckedThrough(seq uint64, at time.Time) (int, error) {
	var ids []ID
	err := j.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(store.BucketPunchesPending).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			s, _ := store.Uint(k)
			if s > seq {
				break
			}
			ids = append(ids, makeID(j.nonce, s))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("journal: mark acked: %w", err)
	}
	return j.MarkAcked(ids, at)
}

// compactChunk bounds one compaction transaction so appends never wait long.
const compactChunk = 2000

// Compact deletes acked punches acknowledged longer than the retention ago
// and returns how many went. Pending punches are never touched.
func (j *Journal) Compact(now time.Time) (int, error) {
	cutoff := now.Add(-j.opts.Retention)
	total := 0
	var after []byte
	for {
		n, next, err := j.compactChunk(cutoff, after)
		total += n
		if err != nil {
			return total, fmt.Errorf("journal: compact: %w", err)
		}
		if next == nil {
			break
		}
		after = next
	}
	if total > 0 {
		j.log.Info("journal compacted", "deleted", total, "older_than", cutoff.Format(time.RFC3339))
	}
	return total, nil
}

func (j *Journal) compactChunk(cutoff time.Time, from []byte) (deleted int, next []byte, err error) {
	err = j.db.Update(func(tx *bolt.Tx) error {
		deleted, next = 0, nil
		c := tx.Bucket(store.BucketPunchesAcked).Cursor()
		cb := tx.Bucket(store.BucketCorrections)
		k, v := c.First()
		if from != nil {
			k, v = c.Seek(from)
		}
		seen := 0
		for ; k != nil; seen++ {
			if seen == compactChunk {
				next = append([]byte(nil), k...)
				return nil
			}
			p, err := decode(v)
			// A record that no longer decodes is of no use to anyone; old
			// acked records are the one thing we may drop.
			// A correction the cloud has not confirmed keeps its punch.
			if err != nil || (p.AckedAt.Before(cutoff) && cb.Get(k) == nil) {
				if err := c.Delete(); err != nil {
					return err
				}
				deleted++
				k, v = c.Seek(k) // Delete moves the cursor; find the next key
				continue
			}
			k, v = c.Next()
		}
		return nil
	})
	return deleted, next, err
}
