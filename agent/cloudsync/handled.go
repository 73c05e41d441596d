package cloudsync

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/store"
	"timeclock/wire"
)

// handledLog remembers the commands the clock has carried out, with their
// results, in the state file (store.BucketCommands). A command the broker
// delivers again (the retained disable at every connection, the cloud's
// resend of an unanswered command) is answered with the stored result and
// not carried out twice: a reboot must not reboot again.
type handledLog struct {
	db   *bolt.DB
	keep time.Duration
}

type handledEntry struct {
	At     time.Time          `json:"at"`
	Result wire.CommandResult `json:"result"`
	// Delivered: the broker acknowledged the result (kept for the disable:
	// after that the cloud may refuse the clock at any moment).
	Delivered bool `json:"delivered,omitempty"`
}

// get returns the stored result of a command ID.
func (h handledLog) get(id string) (wire.CommandResult, bool) {
	e, ok := h.entry(id)
	return e.Result, ok
}

func (h handledLog) entry(id string) (handledEntry, bool) {
	var e handledEntry
	var ok bool
	h.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(store.BucketCommands).Get([]byte(id)); v != nil {
			// An entry that does not read as this command's result (damage:
			// "{}" would answer with an empty result and never carry the
			// command out) counts as not handled.
			ok = json.Unmarshal(v, &e) == nil && e.Result.ID == id
		}
		return nil
	})
	return e, ok
}

// delivered reports whether a command's result reached the broker.
func (h handledLog) delivered(id string) bool {
	e, ok := h.entry(id)
	return ok && e.Delivered
}

// put records a command's result durably (fsynced before the result is
// published), and forgets entries older than keep.
func (h handledLog) put(r wire.CommandResult, now time.Time) error {
	return h.putEntry(handledEntry{At: now.UTC(), Result: r})
}

// markDelivered records that the broker acknowledged the result.
func (h handledLog) markDelivered(r wire.CommandResult, now time.Time) error {
	return h.putEntry(handledEntry{At: now.UTC(), Result: r, Delivered: true})
}

func (h handledLog) putEntry(e handledEntry) error {
	now, r := e.At, e.Result
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("commands: %w", err)
	}
	err = h.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(store.BucketCommands)
		var old [][]byte
		b.ForEach(func(k, v []byte) error {
			var e handledEntry
			if json.Unmarshal(v, &e) != nil || e.Result.ID != string(k) || now.Sub(e.At) > h.keep || e.At.After(now.Add(h.keep)) {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return b.Put([]byte(r.ID), v)
	})
	if err != nil {
		return fmt.Errorf("commands: %w", err)
	}
	return nil
}
