package boltstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"timeclock/cloud/store"
	"timeclock/cloud/store/storetest"
)

func TestStoreBehaviour(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := Open(filepath.Join(t.TempDir(), "cloud.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutCompany(store.Company{ID: "482913", Name: "Acme"})
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(context.Background(), func(tx store.Tx) error {
		if c, err := tx.Company("482913"); err != nil || c.Name != "Acme" {
			t.Errorf("after reopen: %+v, %v", c, err)
		}
		return nil
	})
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("store file mode %v, want 0600", st.Mode().Perm())
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Open(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}

func TestCorruptRecordIsAnErrorNotAPanic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.db.Update(func(tx *bolt.Tx) error {
		tx.Bucket(bucketDevices).Put([]byte("d1"), []byte(`{"id":"d1","status":"lost"}`))
		return tx.Bucket(bucketCompanies).Put([]byte("1"), []byte(`{not json`))
	})
	db.View(context.Background(), func(tx store.Tx) error {
		if _, err := tx.Company("1"); err == nil || !strings.Contains(err.Error(), "corrupt") {
			t.Errorf("corrupt company: %v", err)
		}
		if _, err := tx.Device("d1"); err == nil || !strings.Contains(err.Error(), "lost") {
			t.Errorf("unknown status name: %v", err)
		}
		return nil
	})
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud.db")
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucketIfNotExists(bucketMeta)
		return b.Put(keySchema, []byte("99"))
	})
	raw.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "99") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

// A store written before the admin pages has users but no email index; the
// next Open builds it.
func TestOpenIndexesOldUsers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutUser(store.User{CompanyID: "482913", Email: "Dana@acme.example", Name: "Dana"})
	})
	db.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketUserByEmail); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bucketUserByEmail)
		return err
	})
	db.Close()
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(context.Background(), func(tx store.Tx) error {
		us, err := tx.UsersByEmail("dana@acme.example")
		if err != nil || len(us) != 1 || us[0].Name != "Dana" {
			t.Errorf("UsersByEmail after reopen = %+v, %v", us, err)
		}
		return nil
	})
}
