package journal

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/store"
)

// Pending is how many punches wait for the cloud (from metadata: no scan).
func (j *Journal) Pending() int { return int(j.pending.Load()) }

// Capacity is the most punches that may be pending.
func (j *Journal) Capacity() int { return j.opts.Capacity }

// Fill is Pending/Capacity, 0 to 1.
func (j *Journal) Fill() float64 { return float64(j.Pending()) / float64(j.opts.Capacity) }

// LastSeq is the highest sequence number handed out.
func (j *Journal) LastSeq() uint64 { return j.lastSeq.Load() }

// LastUsedBy names the employee who punched last ("" before anyone has).
func (j *Journal) LastUsedBy() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lastUsedBy
}

func (j *Journal) decode(k, v []byte) (Punch, error) {
	p, err := decode(v)
	if err != nil {
		return p, fmt.Errorf("journal: punch %x: %w", k, err)
	}
	p.ID = makeID(j.nonce, p.Seq)
	return p, nil
}

// OldestPending returns the oldest pending punch (ok false when none); the
// status reports its age. It reads one page.
func (j *Journal) OldestPending() (p Punch, ok bool, err error) {
	err = j.db.View(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(store.BucketPunchesPending).Cursor().First()
		if k == nil {
			return nil
		}
		p, err = j.decode(k, v)
		ok = err == nil
		return err
	})
	return p, ok, err
}

// PendingAfter returns up to max pending punches with Seq > after, in
// sequence order. The sync walks the backlog with it: pass the last Seq of
// one batch as the cursor of the next.
func (j *Journal) PendingAfter(after uint64, max int) ([]Punch, error) {
	var out []Punch
	err := j.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(store.BucketPunchesPending).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(out) < max; k, v = c.Next() {
			p, err := j.decode(k, v)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// Recent returns the newest n punches, pending and acked, newest first
// (the technician's "punches").
func (j *Journal) Recent(n int) ([]Punch, error) {
	var out []Punch
	err := j.db.View(func(tx *bolt.Tx) error {
		pc := tx.Bucket(store.BucketPunchesPending).Cursor()
		sc := tx.Bucket(store.BucketPunchesAcked).Cursor()
		pk, pv := pc.Last()
		sk, sv := sc.Last()
		for len(out) < n && (pk != nil || sk != nil) {
			var k, v []byte
			if sk == nil || (pk != nil && string(pk) > string(sk)) {
				k, v = pk, pv
				pk, pv = pc.Prev()
			} else {
				k, v = sk, sv
				sk, sv = sc.Prev()
			}
			p, err := j.decode(k, v)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// Last is a subject's most recent punch, for IN/OUT inference and the
// duplicate window.
type Last struct {
	Seq        uint64
	Kind       Kind
	Time       time.Time
	Department string
}

// LastOf returns the last punch of an employee (ok false if none).
func (j *Journal) LastOf(employee string) (Last, bool, error) {
	return j.lastOf(store.SubjectEmployee + employee)
}

// LastOfBadge returns the last unassigned punch of a raw badge number.
func (j *Journal) LastOfBadge(badge string) (Last, bool, error) {
	return j.lastOf(store.SubjectBadge + badge)
}

func (j *Journal) lastOf(subj string) (l Last, ok bool, err error) {
	err = j.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(store.BucketLastPunch).Get([]byte(subj))
		if v == nil {
			return nil
		}
		d, err := decodeLast(v)
		if err != nil {
			return fmt.Errorf("journal: last punch of %s: %w", subj, err)
		}
		l, ok = Last(d), true
		return nil
	})
	return l, ok, err
}
