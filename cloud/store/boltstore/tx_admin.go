package boltstore

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"

	"timeclock/cloud/store"
)

// indexUsersByEmail fills user_by_email from users when the index is new
// (a store written before the admin pages existed).
func indexUsersByEmail(tx *bolt.Tx) error {
	idx := tx.Bucket(bucketUserByEmail)
	if k, _ := idx.Cursor().First(); k != nil {
		return nil
	}
	return tx.Bucket(bucketUsers).ForEach(func(k, _ []byte) error {
		company, email, ok := bytes.Cut(k, []byte{0})
		if !ok {
			return nil
		}
		return idx.Put(pair(string(email), string(company)), []byte{})
	})
}

func (t *txn) Companies() ([]store.Company, error) {
	return scan[store.Company](t.tx, bucketCompanies, nil, "company")
}

func (t *txn) User(companyID, email string) (store.User, error) {
	return get[store.User](t.tx, bucketUsers, pair(companyID, strings.ToLower(email)), "user")
}

func (t *txn) UsersByEmail(email string) ([]store.User, error) {
	var out []store.User
	email = strings.ToLower(email)
	if email == "" || strings.ContainsRune(email, 0) {
		return nil, nil
	}
	pfx := prefix(email)
	c := t.tx.Bucket(bucketUserByEmail).Cursor()
	for k, _ := c.Seek(pfx); k != nil && bytes.HasPrefix(k, pfx); k, _ = c.Next() {
		u, err := t.User(string(k[len(pfx):]), email)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func (t *txn) SetupSecret(companyID string) ([]byte, error) {
	b := t.tx.Bucket(bucketSetupSecrets).Get([]byte(companyID))
	if b == nil {
		return nil, fmt.Errorf("setup secret of %q: %w", companyID, store.ErrNotFound)
	}
	return bytes.Clone(b), nil
}

func (t *txn) PutSetupSecret(companyID string, secret []byte) error {
	if err := required("setup secret", companyID); err != nil {
		return err
	}
	if len(secret) < 16 {
		return fmt.Errorf("setup secret of %q: %d bytes, want at least 16", companyID, len(secret))
	}
	return t.tx.Bucket(bucketSetupSecrets).Put([]byte(companyID), secret)
}

func (t *txn) Roles(companyID string) ([]store.Role, error) {
	return scan[store.Role](t.tx, bucketRoles, prefix(companyID), "role")
}

func (t *txn) Role(companyID, id string) (store.Role, error) {
	return get[store.Role](t.tx, bucketRoles, pair(companyID, id), "role")
}

func (t *txn) PutRole(r store.Role) error {
	if err := required("role", r.CompanyID, r.ID); err != nil {
		return err
	}
	return put(t.tx, bucketRoles, pair(r.CompanyID, r.ID), r)
}

func (t *txn) DeleteRole(companyID, id string) error {
	key := pair(companyID, id)
	if t.tx.Bucket(bucketRoles).Get(key) == nil {
		return fmt.Errorf("role %q: %w", id, store.ErrNotFound)
	}
	return t.tx.Bucket(bucketRoles).Delete(key)
}

func (t *txn) LoginSession(hash string) (store.LoginSession, error) {
	if hash == "" {
		return store.LoginSession{}, fmt.Errorf("login: %w", store.ErrNotFound)
	}
	return get[store.LoginSession](t.tx, bucketLogins, []byte(hash), "login")
}

func (t *txn) PutLoginSession(s store.LoginSession) error {
	if err := required("login", s.Hash, s.CompanyID, s.Email); err != nil {
		return err
	}
	return put(t.tx, bucketLogins, []byte(s.Hash), s)
}

func (t *txn) DeleteLoginSession(hash string) error {
	if hash == "" {
		return nil
	}
	return t.tx.Bucket(bucketLogins).Delete([]byte(hash))
}

func (t *txn) DeleteLoginSessionsExpiredBefore(before store.Time) (int, error) {
	all, err := scan[store.LoginSession](t.tx, bucketLogins, nil, "login")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range all {
		if s.ExpiresAt.Before(before) {
			if err := t.tx.Bucket(bucketLogins).Delete([]byte(s.Hash)); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

func (t *txn) MobileInstall(id string) (store.MobileInstall, error) {
	return get[store.MobileInstall](t.tx, bucketMobileInstalls, []byte(id), "mobile install")
}

func (t *txn) MobileInstallByApp(companyID, installID string) (store.MobileInstall, error) {
	id := t.tx.Bucket(bucketMobileByApp).Get(pair(companyID, installID))
	if id == nil {
		return store.MobileInstall{}, fmt.Errorf("mobile install %s/%s: %w", companyID, installID, store.ErrNotFound)
	}
	return t.MobileInstall(string(id))
}

func (t *txn) MobileInstallByToken(hash string) (store.MobileInstall, error) {
	id := t.tx.Bucket(bucketMobileByToken).Get([]byte(hash))
	if hash == "" || id == nil {
		return store.MobileInstall{}, fmt.Errorf("mobile install token: %w", store.ErrNotFound)
	}
	return t.MobileInstall(string(id))
}

func (t *txn) MobileInstalls(companyID string) ([]store.MobileInstall, error) {
	var out []store.MobileInstall
	pfx := prefix(companyID)
	c := t.tx.Bucket(bucketMobileByApp).Cursor()
	for k, id := c.Seek(pfx); k != nil && bytes.HasPrefix(k, pfx); k, id = c.Next() {
		m, err := t.MobileInstall(string(id))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (t *txn) PutMobileInstall(m store.MobileInstall) error {
	if err := required("mobile install", m.ID, m.CompanyID, m.InstallID); err != nil {
		return err
	}
	byApp, byToken := t.tx.Bucket(bucketMobileByApp), t.tx.Bucket(bucketMobileByToken)
	if old, err := t.MobileInstall(m.ID); err == nil {
		if old.CompanyID != m.CompanyID || old.InstallID != m.InstallID {
			if err := byApp.Delete(pair(old.CompanyID, old.InstallID)); err != nil {
				return err
			}
		}
		if old.TokenHash != "" && old.TokenHash != m.TokenHash {
			if err := byToken.Delete([]byte(old.TokenHash)); err != nil {
				return err
			}
		}
	}
	if err := put(t.tx, bucketMobileInstalls, []byte(m.ID), m); err != nil {
		return err
	}
	if err := byApp.Put(pair(m.CompanyID, m.InstallID), []byte(m.ID)); err != nil {
		return err
	}
	if m.TokenHash != "" {
		return byToken.Put([]byte(m.TokenHash), []byte(m.ID))
	}
	return nil
}

func (t *txn) Settings() (store.Settings, error) {
	s, err := get[store.Settings](t.tx, bucketSettings, keySettings, "settings")
	if errors.Is(err, store.ErrNotFound) {
		return store.Settings{}, nil
	}
	return s, err
}

func (t *txn) PutSettings(s store.Settings) error {
	return put(t.tx, bucketSettings, keySettings, s)
}
