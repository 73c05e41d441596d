package access

import (
	"context"
	"errors"

	"timeclock/cloud/store"
)

// Checker answers permission questions from the store: the admin API asks
// it for each call.
type Checker struct {
	Store store.Store
}

// Allowed reports whether the user may use p; the empty permission means
// the Administrator profile only. An unknown user may do nothing.
func (c Checker) Allowed(ctx context.Context, companyID, email string, p Permission) (bool, error) {
	var set Permissions
	err := c.Store.View(ctx, func(tx store.Tx) error {
		u, err := tx.User(companyID, email)
		if err != nil {
			return err
		}
		set, err = LoadPermissions(tx, u)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if p == "" {
		return set.Administrator(), nil
	}
	return set.Has(p), nil
}
