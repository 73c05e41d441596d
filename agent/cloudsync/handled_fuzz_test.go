package cloudsync

import (
	"encoding/json"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/store"
	"timeclock/wire"
)

// FuzzHandledLog: whatever bytes a handled-command entry holds (a damaged
// state file, an older clock's form), reading it never panics and never
// answers a command with another command's result; recording the next
// result drops every entry that does not read, and keeps the new one.
func FuzzHandledLog(f *testing.F) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	good, _ := json.Marshal(handledEntry{At: t0, Result: wire.CommandResult{ID: "c1", OK: true}})
	other, _ := json.Marshal(handledEntry{At: t0, Result: wire.CommandResult{ID: "c9", OK: true}})
	for _, b := range [][]byte{good, other, []byte(`{"at":"x"}`), []byte(`{}`), []byte(`null`), []byte(``), []byte(`{"at":"2026-03-04T05:06:07Z","result":{"id":"c1"},"delivered":true}`),
		[]byte(`{"at":"0001-01-01T00:00:00Z","result":{"id":"c1","ok":true}}`), []byte(`{"at":"9999-12-31T23:59:59Z","result":{"id":"c1"}}`)} {
		f.Add(b)
	}
	st, err := store.Open(f.TempDir(), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	st.DB().NoSync = true // parsing is under test, not durability: thousands of inputs a second
	h := handledLog{db: st.DB(), keep: time.Hour}
	f.Fuzz(func(t *testing.T, raw []byte) {
		err := h.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(store.BucketCommands)
			for _, k := range [][]byte{[]byte("c1"), []byte("c2")} {
				if err := b.Put(k, raw); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := h.get("c1"); ok && r.ID != "c1" {
			t.Fatalf("command c1 answered with %+v", r)
		}
		_ = h.delivered("c1")
		if err := h.put(wire.CommandResult{ID: "c3", OK: true}, t0); err != nil {
			t.Fatal(err)
		}
		if r, ok := h.get("c3"); !ok || r.ID != "c3" || !r.OK {
			t.Fatalf("the new result: %+v %v", r, ok)
		}
		h.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(store.BucketCommands).ForEach(func(k, v []byte) error {
				var e handledEntry
				if json.Unmarshal(v, &e) != nil || e.Result.ID != string(k) {
					t.Fatalf("entry %q kept though it does not read: %q", k, v)
				}
				return nil
			})
		})
		// Empty the bucket for the next input.
		h.db.Update(func(tx *bolt.Tx) error {
			if err := tx.DeleteBucket(store.BucketCommands); err != nil {
				return err
			}
			_, err := tx.CreateBucket(store.BucketCommands)
			return err
		})
	})
}
