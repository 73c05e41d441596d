// Package boltstore is the cloud's embedded store: one bbolt file in the
// data directory. bbolt serialises writers, so an Update's read-modify-write
// is atomic; every commit is fsynced before Update returns.
package boltstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/cloud/store"
)

// ErrLocked means another process has the file open.
var ErrLocked = errors.New("store is in use by another process")

// DB is a store.Store in a bbolt file.
type DB struct {
	db *bolt.DB
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the bbolt file at path.
func Open(path string) (*DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("store %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if err := indexUsersByEmail(tx); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get(keySchema); {
		case v == nil:
			return meta.Put(keySchema, []byte(schemaVersion))
		case string(v) != schemaVersion:
			return fmt.Errorf("schema %q, this build reads %q", v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return &DB{db: db}, nil
}

// View runs fn in a read-only transaction.
func (d *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.db.View(func(tx *bolt.Tx) error { return fn(&txn{tx}) })
}

// Update runs fn in a read-write transaction, committed when fn returns nil.
func (d *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.db.Update(func(tx *bolt.Tx) error { return fn(&txn{tx}) })
}

// Close closes the file.
func (d *DB) Close() error { return d.db.Close() }
