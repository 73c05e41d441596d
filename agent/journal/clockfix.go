package journal

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/store"
)

// UnsetClock is how many punches were taken with an unset clock and not yet
// corrected.
func (j *Journal) UnsetClock() int { return int(j.unsetClock.Load()) }

// CorrectClock rewrites the times of punches taken before the clock was set,
// now that now is real time: a punch of this boot happened
// sinceBoot - p.SinceBoot before now. Punches of earlier boots cannot be
// placed; they keep their time, stay marked as taken on an unset clock, and
// leave the correction list. It returns how many punches were corrected.
func (j *Journal) CorrectClock(bootID string, now time.Time, sinceBoot time.Duration) (int, error) {
	if j.UnsetClock() == 0 {
		return 0, nil
	}
	fixed, dropped := 0, 0
	var unset uint64
	err := j.db.Update(func(tx *bolt.Tx) error {
		fixed, dropped = 0, 0
		meta := tx.Bucket(store.BucketMeta)
		ub := tx.Bucket(store.BucketUnsetClock)
		lb := tx.Bucket(store.BucketLastPunch)
		var keys [][]byte
		ub.ForEach(func(k, v []byte) error {
			keys = append(keys, append([]byte(nil), k...))
			return nil
		})
		for _, k := range keys {
			boot := string(ub.Get(k))
			if err := ub.Delete(k); err != nil {
				return err
			}
			b, v := locate(tx, k)
			if v == nil {
				continue // compacted meanwhile
			}
			if boot != bootID {
				dropped++
				continue
			}
			p, err := decode(v)
			if err != nil {
				return fmt.Errorf("punch %x: %w", k, err)
			}
			p.Time = now.Add(-(sinceBoot - p.SinceBoot)).UTC().Truncate(time.Millisecond)
			p.Corrected = true
			if loc, err := time.LoadLocation(p.TZ); err == nil {
				_, p.TZOffset = p.Time.In(loc).Zone()
			}
			rec, err := encode(p)
			if err != nil {
				return err
			}
			if err := b.Put(k, rec); err != nil {
				return err
			}
			// The subject's last punch drives duplicate and IN/OUT logic:
			// it must carry the corrected time too.
			subj := []byte(subject(p))
			if lv := lb.Get(subj); lv != nil {
				if l, err := decodeLast(lv); err == nil && l.Seq == p.Seq {
					l.Time = p.Time
					if err := lb.Put(subj, encodeLast(l)); err != nil {
						return err
					}
				}
			}
			fixed++
		}
		unset = 0
		return meta.Put(store.KeyUnsetClock, store.PutUint(0))
	})
	if err != nil {
		return 0, fmt.Errorf("journal: clock correction: %w", err)
	}
	j.unsetClock.Store(int64(unset))
	j.log.Info("clock correction", "corrected", fixed, "other_boots", dropped)
	return fixed, nil
}

// locate finds a punch's record in pending or acked.
func locate(tx *bolt.Tx, k []byte) (*bolt.Bucket, []byte) {
	for _, name := range [][]byte{store.BucketPunchesPending, store.BucketPunchesAcked} {
		b := tx.Bucket(name)
		if v := b.Get(k); v != nil {
			return b, v
		}
	}
	return nil, nil
}
