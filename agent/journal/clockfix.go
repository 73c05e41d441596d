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

// CorrectClock rewrites the times of punches whose time nothing vouched for
// (taken before the clock was set, or on an unverified RTC), now that now is
// real time: a punch of this boot happened sinceBoot - p.SinceBoot before
// now. A punch whose time was already within a second keeps it; one that
// moved keeps its old time as OriginalTime, is marked Corrected and waits in
// the corrections list until the cloud confirms storing the corrected time.
// Punches of earlier boots cannot be placed; they keep their time and
// source and leave the correction list. It returns how many punches were
// corrected.
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
		cb := tx.Bucket(store.BucketCorrections)
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
			t := now.Add(-(sinceBoot - p.SinceBoot)).UTC().Truncate(time.Millisecond)
			if d := t.Sub(p.Time); d < time.Second && d > -time.Second {
				continue // the clock was right: nothing to correct
			}
			if !p.Corrected {
				p.OriginalTime = p.Time
			}
			p.Time, p.Corrected = t, true
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
			if err := cb.Put(k, nil); err != nil {
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

// ForgetOtherBoots takes the punches of earlier boots off the correction
// list: no correction can place them (their monotonic stamps count from
// another boot), and the list would otherwise grow with every boot of a
// clock that never learns the true time. They keep their time and source.
// It returns how many it took off.
func (j *Journal) ForgetOtherBoots(bootID string) (int, error) {
	if j.UnsetClock() == 0 {
		return 0, nil
	}
	n := 0
	var left uint64
	err := j.db.Update(func(tx *bolt.Tx) error {
		n, left = 0, 0
		ub := tx.Bucket(store.BucketUnsetClock)
		var drop [][]byte
		ub.ForEach(func(k, v []byte) error {
			if string(v) != bootID {
				drop = append(drop, append([]byte(nil), k...))
			} else {
				left++
			}
			return nil
		})
		for _, k := range drop {
			if err := ub.Delete(k); err != nil {
				return err
			}
		}
		n = len(drop)
		return tx.Bucket(store.BucketMeta).Put(store.KeyUnsetClock, store.PutUint(left))
	})
	if err != nil {
		return 0, fmt.Errorf("journal: forget other boots: %w", err)
	}
	j.unsetClock.Store(int64(left))
	if n > 0 {
		j.log.Info("punches of earlier boots cannot be corrected; they keep their time", "punches", n)
	}
	return n, nil
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

// Corrections returns up to max corrected punches the cloud has not yet
// confirmed storing, in sequence order.
func (j *Journal) Corrections(max int) ([]Punch, error) {
	var ps []Punch
	err := j.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(store.BucketCorrections).Cursor()
		for k, _ := c.First(); k != nil && len(ps) < max; k, _ = c.Next() {
			_, v := locate(tx, k)
			if v == nil {
				continue // compacted: nothing left to send; MarkCorrected drops it
			}
			p, err := j.decode(k, v)
			if err != nil {
				return err
			}
			ps = append(ps, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal: corrections: %w", err)
	}
	return ps, nil
}

// PendingCorrections is how many corrections wait for the cloud.
func (j *Journal) PendingCorrections() int {
	n := 0
	j.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(store.BucketCorrections).Stats().KeyN
		return nil
	})
	return n
}

// MarkCorrected removes punches from the corrections list: the cloud
// stored their corrected times. IDs not on it are ignored.
func (j *Journal) MarkCorrected(ids []ID) error {
	err := j.db.Update(func(tx *bolt.Tx) error {
		cb := tx.Bucket(store.BucketCorrections)
		for _, id := range ids {
			if [8]byte(id[:8]) != j.nonce {
				continue
			}
			if err := cb.Delete(seqKey(id.Seq())); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: mark corrected: %w", err)
	}
	return nil
}
