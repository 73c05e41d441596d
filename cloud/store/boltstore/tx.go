package boltstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"

	"timeclock/cloud/store"
)

type txn struct{ tx *bolt.Tx }

func get[T any](tx *bolt.Tx, bucket, key []byte, what string) (T, error) {
	var v T
	b := tx.Bucket(bucket).Get(key)
	if b == nil {
		return v, fmt.Errorf("%s %q: %w", what, key, store.ErrNotFound)
	}
	if err := store.DecodeRecord(b, &v); err != nil {
		return v, fmt.Errorf("%s %q: corrupt record: %w", what, key, err)
	}
	return v, nil
}

func put(tx *bolt.Tx, bucket, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s %q: %w", bucket, key, err)
	}
	return tx.Bucket(bucket).Put(key, b)
}

func scan[T any](tx *bolt.Tx, bucket, pfx []byte, what string) ([]T, error) {
	var out []T
	c := tx.Bucket(bucket).Cursor()
	for k, b := c.Seek(pfx); k != nil && bytes.HasPrefix(k, pfx); k, b = c.Next() {
		var v T
		if err := store.DecodeRecord(b, &v); err != nil {
			return nil, fmt.Errorf("%s %q: corrupt record: %w", what, k, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func required(what string, vals ...string) error {
	for _, v := range vals {
		if v == "" || strings.ContainsRune(v, 0) {
			return fmt.Errorf("%s: empty key or NUL in key", what)
		}
	}
	return nil
}

func (t *txn) Company(id string) (store.Company, error) {
	return get[store.Company](t.tx, bucketCompanies, []byte(id), "company")
}

func (t *txn) PutCompany(c store.Company) error {
	if err := required("company", c.ID); err != nil {
		return err
	}
	return put(t.tx, bucketCompanies, []byte(c.ID), c)
}

func (t *txn) Users(companyID string) ([]store.User, error) {
	return scan[store.User](t.tx, bucketUsers, prefix(companyID), "user")
}

func (t *txn) PutUser(u store.User) error {
	if err := required("user", u.CompanyID, u.Email); err != nil {
		return err
	}
	if err := put(t.tx, bucketUsers, pair(u.CompanyID, strings.ToLower(u.Email)), u); err != nil {
		return err
	}
	return t.tx.Bucket(bucketUserByEmail).Put(pair(strings.ToLower(u.Email), u.CompanyID), []byte{})
}

func (t *txn) DeleteUser(companyID, email string) error {
	e := strings.ToLower(email)
	if err := t.tx.Bucket(bucketUsers).Delete(pair(companyID, e)); err != nil {
		return err
	}
	return t.tx.Bucket(bucketUserByEmail).Delete(pair(e, companyID))
}

func (t *txn) Session(id string) (store.Session, error) {
	return get[store.Session](t.tx, bucketSessions, []byte(id), "session")
}

func (t *txn) SessionFor(companyID, serial string) (store.Session, error) {
	id := t.tx.Bucket(bucketSessionByClock).Get(pair(companyID, serial))
	if id == nil {
		return store.Session{}, fmt.Errorf("session for %s/%s: %w", companyID, serial, store.ErrNotFound)
	}
	return t.Session(string(id))
}

func (t *txn) PutSession(s store.Session) error {
	if err := required("session", s.ID, s.CompanyID, s.Serial); err != nil {
		return err
	}
	if err := put(t.tx, bucketSessions, []byte(s.ID), s); err != nil {
		return err
	}
	// The index points at the newest session of the clock: the one written
	// last with the latest send time.
	idx := t.tx.Bucket(bucketSessionByClock)
	key := pair(s.CompanyID, s.Serial)
	if cur := idx.Get(key); cur != nil && string(cur) != s.ID {
		old, err := t.Session(string(cur))
		if err == nil && old.SentAt.After(s.SentAt) {
			return nil
		}
	}
	return idx.Put(key, []byte(s.ID))
}

func (t *txn) DeleteSessionsExpiredBefore(before store.Time) (int, error) {
	var dead []store.Session
	err := t.tx.Bucket(bucketSessions).ForEach(func(k, b []byte) error {
		var s store.Session
		if err := store.DecodeRecord(b, &s); err != nil {
			return fmt.Errorf("session %q: corrupt record: %w", k, err)
		}
		if s.ExpiresAt.Before(before) {
			dead = append(dead, s)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	idx := t.tx.Bucket(bucketSessionByClock)
	for _, s := range dead {
		if err := t.tx.Bucket(bucketSessions).Delete([]byte(s.ID)); err != nil {
			return 0, err
		}
		key := pair(s.CompanyID, s.Serial)
		if string(idx.Get(key)) == s.ID {
			if err := idx.Delete(key); err != nil {
				return 0, err
			}
		}
	}
	return len(dead), nil
}

func (t *txn) Device(id string) (store.Device, error) {
	return get[store.Device](t.tx, bucketDevices, []byte(id), "device")
}

func (t *txn) DeviceBySerial(companyID, serial string) (store.Device, error) {
	id := t.tx.Bucket(bucketDeviceBySerial).Get(pair(companyID, serial))
	if id == nil {
		return store.Device{}, fmt.Errorf("device %s/%s: %w", companyID, serial, store.ErrNotFound)
	}
	return t.Device(string(id))
}

func (t *txn) Devices(companyID string) ([]store.Device, error) {
	var out []store.Device
	c := t.tx.Bucket(bucketDeviceBySerial).Cursor()
	pfx := prefix(companyID)
	for k, id := c.Seek(pfx); k != nil && bytes.HasPrefix(k, pfx); k, id = c.Next() {
		d, err := t.Device(string(id))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (t *txn) PutDevice(d store.Device) error {
	if err := required("device", d.ID, d.CompanyID, d.Serial); err != nil {
		return err
	}
	if old, err := t.Device(d.ID); err == nil && (old.CompanyID != d.CompanyID || old.Serial != d.Serial) {
		if err := t.tx.Bucket(bucketDeviceBySerial).Delete(pair(old.CompanyID, old.Serial)); err != nil {
			return err
		}
	}
	if err := put(t.tx, bucketDevices, []byte(d.ID), d); err != nil {
		return err
	}
	return t.tx.Bucket(bucketDeviceBySerial).Put(pair(d.CompanyID, d.Serial), []byte(d.ID))
}

func (t *txn) AdminToken(hash string) (store.AdminToken, error) {
	if hash == "" {
		return store.AdminToken{}, fmt.Errorf("admin token: %w", store.ErrNotFound)
	}
	return get[store.AdminToken](t.tx, bucketAdminTokens, []byte(hash), "admin token")
}

func (t *txn) PutAdminToken(a store.AdminToken) error {
	if err := required("admin token", a.Hash, a.CompanyID); err != nil {
		return err
	}
	return put(t.tx, bucketAdminTokens, []byte(a.Hash), a)
}
