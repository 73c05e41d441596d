package cloud

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/crypto/bcrypt"

	"timeclock/cloud/access"
	"timeclock/cloud/store"
	"timeclock/internal/atomicfile"
)

// DevLoginsFile remembers the demo users' admin-page passwords between dev
// starts (the store keeps only their bcrypt hashes).
const DevLoginsFile = "dev-logins.json"

// DemoRoleName is the security role the demo non-administrator starts with:
// Dashboard and the Mobile Devices list, but not the setup code (no Add).
const DemoRoleName = "Payroll"

const demoRoleID = "payroll"

type devLogins struct {
	AdminPassword string `json:"admin_password"`
	UserPassword  string `json:"user_password"`
}

// devLoginCost is bcrypt's work factor for the demo users: the lowest,
// so dev starts stay quick (bcrypt is slow on purpose, and very slow under
// the race detector). It protects nothing here: the passwords are random
// and sit in DevLoginsFile beside the store.
const devLoginCost = bcrypt.MinCost

// seedDevLogins gives the demo administrator and non-administrator a
// password for the admin pages (random on the first start, kept in
// DevLoginsFile) and the non-administrator the demo role, unless an
// administrator already gave them another.
func seedDevLogins(ctx context.Context, st store.Store, dir, companyID string, now store.Time, cost int) (devLogins, error) {
	var dl devLogins
	path := filepath.Join(dir, DevLoginsFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &dl); err != nil || len(dl.AdminPassword) < access.MinPassword || len(dl.UserPassword) < access.MinPassword {
			return dl, fmt.Errorf("dev logins: %s is damaged; remove it for new passwords", path)
		}
	case errors.Is(err, os.ErrNotExist):
		if dl.AdminPassword, err = devPassword(); err != nil {
			return dl, err
		}
		if dl.UserPassword, err = devPassword(); err != nil {
			return dl, err
		}
	default:
		return dl, fmt.Errorf("dev logins: %w", err)
	}
	// Hash outside the transaction: bcrypt is slow on purpose.
	var users []store.User
	err = st.View(ctx, func(tx store.Tx) error {
		for _, e := range []string{DemoAdminEmail, DemoUserEmail} {
			u, err := tx.User(companyID, e)
			if err != nil {
				return err
			}
			users = append(users, u)
		}
		return nil
	})
	if err != nil {
		return dl, fmt.Errorf("dev logins: %w", err)
	}
	for i, pw := range []string{dl.AdminPassword, dl.UserPassword} {
		if bcrypt.CompareHashAndPassword([]byte(users[i].PasswordHash), []byte(pw)) == nil {
			continue
		}
		if users[i].PasswordHash, err = access.HashPassword(pw, cost); err != nil {
			return dl, fmt.Errorf("dev logins: %w", err)
		}
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Role(companyID, demoRoleID); errors.Is(err, store.ErrNotFound) {
			r := store.Role{CompanyID: companyID, ID: demoRoleID, Name: DemoRoleName, CreatedAt: now,
				Permissions: access.PermissionNames([]access.Permission{access.DashboardAccess, access.DevicesView})}
			if err := tx.PutRole(r); err != nil {
				return err
			}
			if users[1].RoleID == "" {
				users[1].RoleID = demoRoleID
			}
		} else if err != nil {
			return err
		}
		for _, u := range users {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return dl, fmt.Errorf("dev logins: %w", err)
	}
	b, _ = json.MarshalIndent(dl, "", "  ")
	if err := atomicfile.Write(path, append(b, '\n'), 0o600); err != nil {
		return dl, fmt.Errorf("dev logins: %w", err)
	}
	return dl, nil
}

// devPassword is 16 characters that are easy to read and type.
func devPassword() (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 16)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("dev logins: %w", err)
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b), nil
}

// printDevLogins seeds the demo logins and prints where and how to log in
// to the admin pages, deliberately: dev mode only, and never to the log.
func printDevLogins(ctx context.Context, out io.Writer, cfg Config, st store.Store, companyID string, now store.Time, httpsAddr string) error {
	dl, err := seedDevLogins(ctx, st, cfg.DataDir, companyID, now, devLoginCost)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "admin pages: https://%s/admin/ (text messages: DEV SMS below)\n", net.JoinHostPort(cfg.PublicHost, port(httpsAddr)))
	fmt.Fprintf(out, "admin login: %s / %s\n", DemoAdminEmail, dl.AdminPassword)
	fmt.Fprintf(out, "user login: %s / %s (not an administrator; security role %s)\n", DemoUserEmail, dl.UserPassword, DemoRoleName)
	return nil
}
