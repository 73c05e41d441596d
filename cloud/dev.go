package cloud

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"timeclock/cloud/store"
	"timeclock/internal/atomicfile"
)

// DevFile remembers the demo company and the dev admin token between dev
// starts (the store keeps only the token's hash).
const DevFile = "dev.json"

// The demo company's people: one administrator (gets the codes) and one
// user without the administrator profile (must never get them).
const (
	DemoCompanyName = "Demo Company"
	DemoTimezone    = "America/Chicago"
	DemoAdminEmail  = "admin@demo.example"
	DemoUserEmail   = "payroll@demo.example"
)

type devState struct {
	CompanyID  string `json:"company_id"`
	AdminToken string `json:"admin_token"`
}

// seedDev makes (or finds again) the demo company, its users and the dev
// admin token.
func seedDev(ctx context.Context, st store.Store, dir, wantID string, now time.Time) (devState, error) {
	var ds devState
	path := filepath.Join(dir, DevFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &ds); err != nil || ds.CompanyID == "" || ds.AdminToken == "" {
			return ds, fmt.Errorf("dev seed: %s is damaged; remove it to seed again", path)
		}
	case errors.Is(err, os.ErrNotExist):
		ds.CompanyID = wantID
		if ds.CompanyID == "" {
			// Six digits, no leading zero: easy to type on a keypad.
			n, err := rand.Int(rand.Reader, big.NewInt(900000))
			if err != nil {
				return ds, fmt.Errorf("dev seed: %w", err)
			}
			ds.CompanyID = fmt.Sprint(100000 + n.Int64())
		}
		tok := make([]byte, 24)
		if _, err := rand.Read(tok); err != nil {
			return ds, fmt.Errorf("dev seed: %w", err)
		}
		ds.AdminToken = base64.RawURLEncoding.EncodeToString(tok)
	default:
		return ds, fmt.Errorf("dev seed: %w", err)
	}
	// Put the records every start: idempotent, and it repairs a store that
	// was removed while dev.json stayed.
	err = st.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Company(ds.CompanyID); errors.Is(err, store.ErrNotFound) {
			if err := tx.PutCompany(store.Company{ID: ds.CompanyID, Name: DemoCompanyName, Timezone: DemoTimezone}); err != nil {
				return err
			}
			if err := tx.PutUser(store.User{CompanyID: ds.CompanyID, Email: DemoAdminEmail, Name: "Dana Admin", Administrator: true}); err != nil {
				return err
			}
			if err := tx.PutUser(store.User{CompanyID: ds.CompanyID, Email: DemoUserEmail, Name: "Pat Payroll"}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		h := store.TokenHash(ds.AdminToken)
		if _, err := tx.AdminToken(h); errors.Is(err, store.ErrNotFound) {
			return tx.PutAdminToken(store.AdminToken{Hash: h, CompanyID: ds.CompanyID, UserEmail: DemoAdminEmail, CreatedAt: now})
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return ds, fmt.Errorf("dev seed: %w", err)
	}
	b, _ = json.MarshalIndent(ds, "", "  ")
	if err := atomicfile.Write(path, append(b, '\n'), 0o600); err != nil {
		return ds, fmt.Errorf("dev seed: %w", err)
	}
	return ds, nil
}
