// Package fingers is who is enrolled on this clock's fingerprint module:
// which slot of the module holds whose template, the employee's consent
// (when, and which supervisor took it), templates waiting to be deleted
// from the module, and the consent and deletion records the cloud has not
// acknowledged yet. The templates themselves never leave the module:
// nothing here holds one, and nothing here is biometric data.
package fingers

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/store"
)

// Enrollment is one template on the module: the slot, whose it is, and the
// consent given for it.
type Enrollment struct {
	Slot     int    `json:"slot"`
	Employee string `json:"employee"`
	// Supervisor is the employee ID of the supervisor who enrolled the
	// finger and confirmed the employee's consent on the screen.
	Supervisor string    `json:"supervisor"`
	ConsentAt  time.Time `json:"consent_at"`
	EnrolledAt time.Time `json:"enrolled_at"`
	// Deleting: the template is to be deleted from the module (the
	// employee left the roster, or an administrator deleted their
	// biometric data) and the module has not confirmed it yet. Such a
	// slot never matches anyone.
	Deleting bool   `json:"deleting,omitempty"`
	Reason   string `json:"reason,omitempty"` // why it is being deleted
	// Command is the cloud command that asked for the deletion, if one
	// did: the deletion report names it.
	Command string `json:"command,omitempty"`
}

// Report kinds.
const (
	ReportConsent = "consent" // an employee consented and was enrolled
	ReportDeleted = "deleted" // the employee's templates are gone from this clock
)

// Report is a consent or deletion record for the cloud. It carries no
// biometric data: who, when, which supervisor, why.
type Report struct {
	Seq        uint64    `json:"seq"`
	Kind       string    `json:"kind"`
	Employee   string    `json:"employee"`
	Supervisor string    `json:"supervisor,omitempty"`
	At         time.Time `json:"at"`
	Reason     string    `json:"reason,omitempty"`
	// Command is the cloud command a deletion carried out, if one did.
	Command string `json:"command,omitempty"`
}

// Keeper keeps the enrollments in the state file and in memory.
type Keeper struct {
	db *bolt.DB

	mu     sync.Mutex
	bySlot map[int]Enrollment // guarded by mu
}

// Open loads the enrollments.
func Open(st *store.Store) (*Keeper, error) {
	k := &Keeper{db: st.DB(), bySlot: map[int]Enrollment{}}
	err := k.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(store.BucketFingers).ForEach(func(key, v []byte) error {
			var e Enrollment
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("slot %x: %w", key, err)
			}
			k.bySlot[e.Slot] = e
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("fingers: load: %w", err)
	}
	return k, nil
}

// Employee is whose template slot holds; false for a slot nobody is
// enrolled in, or one being deleted.
func (k *Keeper) Employee(slot int) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.bySlot[slot]
	if !ok || e.Deleting {
		return "", false
	}
	return e.Employee, true
}

// Of returns the employee's enrollments, deleting ones included.
func (k *Keeper) Of(employee string) []Enrollment {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []Enrollment
	for _, e := range k.bySlot {
		if e.Employee == employee {
			out = append(out, e)
		}
	}
	bySlot(out)
	return out
}

// All returns every enrollment, by slot.
func (k *Keeper) All() []Enrollment {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]Enrollment, 0, len(k.bySlot))
	for _, e := range k.bySlot {
		out = append(out, e)
	}
	bySlot(out)
	return out
}

// FreeSlot is the lowest slot below capacity nobody holds.
func (k *Keeper) FreeSlot(capacity int) (int, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := 0; i < capacity; i++ {
		if _, ok := k.bySlot[i]; !ok {
			return i, true
		}
	}
	return 0, false
}

// ErrSlotTaken is returned by Add for a slot already held.
var ErrSlotTaken = errors.New("fingers: slot already enrolled")

func slotKey(slot int) []byte { return store.PutUint(uint64(slot)) }

// Add records an enrollment and its consent report, in one transaction.
// The template is already in the module's slot.
func (k *Keeper) Add(e Enrollment) error {
	if e.Employee == "" || e.Supervisor == "" || e.ConsentAt.IsZero() || e.Slot < 0 {
		return fmt.Errorf("fingers: enrollment without employee, supervisor or consent")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.bySlot[e.Slot]; ok {
		return ErrSlotTaken
	}
	err := k.db.Update(func(tx *bolt.Tx) error {
		if err := put(tx, e); err != nil {
			return err
		}
		return addReport(tx, Report{Kind: ReportConsent, Employee: e.Employee, Supervisor: e.Supervisor, At: e.ConsentAt})
	})
	if err != nil {
		return fmt.Errorf("fingers: add: %w", err)
	}
	k.bySlot[e.Slot] = e
	return nil
}

func put(tx *bolt.Tx, e Enrollment) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return tx.Bucket(store.BucketFingers).Put(slotKey(e.Slot), v)
}

func addReport(tx *bolt.Tx, r Report) error {
	b := tx.Bucket(store.BucketFingerReports)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	r.Seq = seq
	r.At = r.At.UTC()
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.Put(store.PutUint(seq), v)
}

// MarkDeleting marks the employee's slots for deletion: from now on they
// match nobody. It returns the slots to delete from the module. command is
// the cloud command that asked, if one did.
func (k *Keeper) MarkDeleting(employee, reason, command string) ([]int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var slots []int
	err := k.db.Update(func(tx *bolt.Tx) error {
		for _, e := range k.bySlot {
			if e.Employee != employee {
				continue
			}
			e.Deleting, e.Reason, e.Command = true, reason, command
			if err := put(tx, e); err != nil {
				return err
			}
			slots = append(slots, e.Slot)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fingers: mark deleting: %w", err)
	}
	for _, s := range slots {
		e := k.bySlot[s]
		e.Deleting, e.Reason, e.Command = true, reason, command
		k.bySlot[s] = e
	}
	slices.Sort(slots)
	return slots, nil
}

// Deleting returns the slots waiting to be deleted from the module.
func (k *Keeper) Deleting() []Enrollment {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []Enrollment
	for _, e := range k.bySlot {
		if e.Deleting {
			out = append(out, e)
		}
	}
	bySlot(out)
	return out
}

// Deleted forgets slot, which the module has deleted; when it was the
// employee's last, a deletion report goes to the cloud. It reports whether
// that was the last one.
func (k *Keeper) Deleted(slot int, at time.Time) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.bySlot[slot]
	if !ok {
		return false, nil
	}
	last := true
	for s, o := range k.bySlot {
		if s != slot && o.Employee == e.Employee {
			last = false
		}
	}
	err := k.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(store.BucketFingers).Delete(slotKey(slot)); err != nil {
			return err
		}
		if !last {
			return nil
		}
		return addReport(tx, Report{Kind: ReportDeleted, Employee: e.Employee, At: at, Reason: e.Reason, Command: e.Command})
	})
	if err != nil {
		return false, fmt.Errorf("fingers: deleted: %w", err)
	}
	delete(k.bySlot, slot)
	return last, nil
}

// Reports returns up to max reports the cloud has not acknowledged, oldest
// first.
func (k *Keeper) Reports(max int) ([]Report, error) {
	var out []Report
	err := k.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(store.BucketFingerReports).Cursor()
		for key, v := c.First(); key != nil && len(out) < max; key, v = c.Next() {
			var r Report
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("report %x: %w", key, err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fingers: reports: %w", err)
	}
	return out, nil
}

// Acked drops the reports the cloud acknowledged.
func (k *Keeper) Acked(seqs []uint64) error {
	return k.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(store.BucketFingerReports)
		for _, s := range seqs {
			if err := b.Delete(store.PutUint(s)); err != nil {
				return err
			}
		}
		return nil
	})
}

// bySlot sorts enrollments by slot. sort.Slice, not slices.SortFunc: the
// generic sort compiles a copy per element type (~8 KiB of the ARM
// binary for this struct), sort.Slice's one copy is linked anyway.
func bySlot(es []Enrollment) {
	sort.Slice(es, func(i, j int) bool { return es[i].Slot < es[j].Slot })
}
