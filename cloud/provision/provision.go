// Package provision is the production set-up of the reference cloud: what
// an operator does from nothing, before and between runs, with
// "timeclock-cloud company|user|role|token|mail|sms" (no --dev): create a
// company, its administrators and users, their passwords and security
// roles, admin API tokens, and set the mail server and the SMS provider,
// all in the cloud's store. Secrets go in through the
// caller (stdin or a file, never argv) and come out once (a new token);
// only their hashes are stored.
package provision

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"timeclock/clock"
	"timeclock/cloud/access"
	"timeclock/cloud/notify"
	"timeclock/cloud/store"
	"timeclock/wire"
)

// Errors the commands name: a record that is already there, or missing.
var (
	ErrExists   = errors.New("already exists")
	ErrNotFound = store.ErrNotFound
)

// Admin carries out the set-up commands on a store.
type Admin struct {
	Store store.Store
	Clock clock.Clock
	// Cost is bcrypt's work factor for passwords; 0 is bcrypt's default.
	Cost int
}

// AddCompany creates a company. Its ID is what installers type on a
// clock's keypad (wire's rule: 4 to 12 digits).
func (a Admin) AddCompany(ctx context.Context, c store.Company) error {
	c.Name = strings.TrimSpace(c.Name)
	var errs []error
	if err := wire.CheckCompanyID(c.ID); err != nil {
		errs = append(errs, fmt.Errorf("id: %q: %w", c.ID, err))
	}
	if c.Name == "" {
		errs = append(errs, errors.New("name: missing"))
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" || c.Timezone == "Local" {
		errs = append(errs, fmt.Errorf("timezone: %q: want an IANA name such as America/Chicago", c.Timezone))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("company: %w", err)
	}
	return a.Store.Update(ctx, func(tx store.Tx) error {
		switch _, err := tx.Company(c.ID); {
		case err == nil:
			return fmt.Errorf("company %s: %w", c.ID, ErrExists)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		return tx.PutCompany(c)
	})
}

// AddUser creates a user of a company. Administrators get the clocks'
// authentication codes and every permission; others get what their
// security role (roleID, optional) allows. An empty password leaves the
// user without a login to the admin pages until one is set.
func (a Admin) AddUser(ctx context.Context, u store.User, password string) error {
	u.Email, u.Name = strings.TrimSpace(u.Email), strings.TrimSpace(u.Name)
	if addr, err := mail.ParseAddress(u.Email); err != nil || addr.Address != u.Email {
		return fmt.Errorf("user: email: %q is not an email address", u.Email)
	}
	if u.Name == "" {
		return errors.New("user: name: missing")
	}
	if u.Administrator && u.RoleID != "" {
		return errors.New("user: an administrator has every permission; give a role to non-administrators only")
	}
	if password != "" {
		h, err := access.HashPassword(password, a.Cost)
		if err != nil {
			return fmt.Errorf("user: %w", err)
		}
		u.PasswordHash = h
	}
	return a.Store.Update(ctx, func(tx store.Tx) error {
		if err := companyExists(tx, u.CompanyID); err != nil {
			return err
		}
		switch _, err := tx.User(u.CompanyID, u.Email); {
		case err == nil:
			return fmt.Errorf("user %s of company %s: %w", u.Email, u.CompanyID, ErrExists)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if u.RoleID != "" {
			if _, err := tx.Role(u.CompanyID, u.RoleID); err != nil {
				return fmt.Errorf("role %s of company %s: %w", u.RoleID, u.CompanyID, err)
			}
		}
		return tx.PutUser(u)
	})
}

// SetPassword sets (or resets) a user's password for the admin pages.
func (a Admin) SetPassword(ctx context.Context, companyID, email, password string) error {
	h, err := access.HashPassword(password, a.Cost)
	if err != nil {
		return err
	}
	return a.updateUser(ctx, companyID, email, func(tx store.Tx, u *store.User) error {
		u.PasswordHash = h
		return nil
	})
}

// AssignRole gives a non-administrator a security role ("" takes it away).
func (a Admin) AssignRole(ctx context.Context, companyID, email, roleID string) error {
	return a.updateUser(ctx, companyID, email, func(tx store.Tx, u *store.User) error {
		if u.Administrator {
			return fmt.Errorf("user %s is an administrator: every permission already", email)
		}
		if roleID != "" {
			if _, err := tx.Role(companyID, roleID); err != nil {
				return fmt.Errorf("role %s of company %s: %w", roleID, companyID, err)
			}
		}
		u.RoleID = roleID
		return nil
	})
}

var roleIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// AddRole creates a company's security role with the permissions it
// grants (access's names, e.g. mobile_devices.add).
func (a Admin) AddRole(ctx context.Context, r store.Role) error {
	r.Name = strings.TrimSpace(r.Name)
	if !roleIDRE.MatchString(r.ID) {
		return fmt.Errorf("role: id: %q: want 1 to 32 lower-case letters, digits or dashes", r.ID)
	}
	if r.Name == "" {
		return errors.New("role: name: missing")
	}
	for _, p := range r.Permissions {
		if !access.KnownPermission(access.Permission(p)) {
			return fmt.Errorf("role: permission %q: unknown; the permissions are %s", p, permissionList())
		}
	}
	r.CreatedAt = a.Clock.Now().UTC()
	return a.Store.Update(ctx, func(tx store.Tx) error {
		if err := companyExists(tx, r.CompanyID); err != nil {
			return err
		}
		switch _, err := tx.Role(r.CompanyID, r.ID); {
		case err == nil:
			return fmt.Errorf("role %s of company %s: %w", r.ID, r.CompanyID, ErrExists)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		return tx.PutRole(r)
	})
}

// NewToken makes an admin API token acting as a user of a company (the
// user's permissions apply, and "disabled by" names them). The token is
// returned once; the store keeps only its hash.
func (a Admin) NewToken(ctx context.Context, companyID, email string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	err := a.Store.Update(ctx, func(tx store.Tx) error {
		u, err := tx.User(companyID, email)
		if err != nil {
			return fmt.Errorf("user %s of company %s: %w", email, companyID, err)
		}
		return tx.PutAdminToken(store.AdminToken{Hash: store.TokenHash(tok), CompanyID: companyID,
			UserEmail: u.Email, CreatedAt: a.Clock.Now().UTC()})
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

func (a Admin) updateUser(ctx context.Context, companyID, email string, f func(store.Tx, *store.User) error) error {
	return a.Store.Update(ctx, func(tx store.Tx) error {
		u, err := tx.User(companyID, strings.TrimSpace(email))
		if err != nil {
			return fmt.Errorf("user %s of company %s: %w", email, companyID, err)
		}
		if err := f(tx, &u); err != nil {
			return err
		}
		return tx.PutUser(u)
	})
}

func companyExists(tx store.Tx, id string) error {
	if _, err := tx.Company(id); err != nil {
		return fmt.Errorf("company %s: %w", id, err)
	}
	return nil
}

func permissionList() string {
	var names []string
	for _, p := range access.AllPermissions() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}

// SetMail stores the mail server that carries the codes (the cloud uses it
// when started without --smtp-host). It is checked as the flags would be.
func (a Admin) SetMail(ctx context.Context, m store.SMTPSettings) error {
	if m.Port == 0 {
		m.Port = 587
	}
	if m.TLS == "" {
		m.TLS = string(notify.StartTLS)
	}
	c := notify.SMTPConfig{Host: m.Host, Port: m.Port, TLS: notify.TLSMode(m.TLS), User: m.User, Password: notify.Secret(m.Password)}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if m.CAPEM != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(m.CAPEM)) {
		return errors.New("mail: ca: no PEM certificate in it")
	}
	if m.From != "" {
		if _, err := mail.ParseAddress(m.From); err != nil {
			return fmt.Errorf("mail: from: %q: %v", m.From, err)
		}
	}
	return a.updateSettings(ctx, func(s *store.Settings) { s.SMTP = m })
}

// SetSMS stores the SMS provider that texts the company setup code (used
// when the cloud is started without --sms-url).
func (a Admin) SetSMS(ctx context.Context, m store.SMSSettings) error {
	c := notify.SMSConfig{URL: m.URL, User: m.User, Token: notify.Secret(m.Token), From: m.From}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	return a.updateSettings(ctx, func(s *store.Settings) { s.SMS = m })
}

func (a Admin) updateSettings(ctx context.Context, f func(*store.Settings)) error {
	return a.Store.Update(ctx, func(tx store.Tx) error {
		s, err := tx.Settings()
		if err != nil {
			return err
		}
		f(&s)
		return tx.PutSettings(s)
	})
}
