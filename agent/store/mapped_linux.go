package store

import (
	"fmt"
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// ReleaseMapped drops the state file's pages from this process's memory
// map (madvise MADV_DONTNEED). bbolt reads through a shared, read-only
// mapping of the file, so every page a long drain reads (200,000 punches:
// ~27 MiB) stays in the process's resident set; released, the pages stay in
// the kernel's page cache, reclaimable, and a later read maps them again
// from there. The data does not change: bbolt writes with pwrite, never
// through the map. A read transaction holds bbolt's mmap lock, so the map
// cannot move while it is released.
func (s *Store) ReleaseMapped() error {
	return s.db.View(func(tx *bolt.Tx) error { return releaseTx(s.db, tx) })
}

// releaseTx releases db's map, which tx (open) holds in place.
func releaseTx(db *bolt.DB, tx *bolt.Tx) error {
	data, size := db.Info().Data, uintptr(tx.Size())
	if data == 0 || size == 0 {
		return nil
	}
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, data, size, syscall.MADV_DONTNEED); e != 0 {
		return fmt.Errorf("store: releasing the mapped state file: %w", e)
	}
	return nil
}
