package access

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"timeclock/clock"
	"timeclock/cloud/ratelimit"
	"timeclock/cloud/store"
)

// LoginConfig is the login rules.
type LoginConfig struct {
	// BcryptCost is the work factor of new password hashes.
	BcryptCost int
	// MaxAge ends a login however busy it is; IdleTimeout ends an unused one.
	MaxAge, IdleTimeout time.Duration
	// SourceFailures bounds wrong logins per source address and
	// AccountFailures per email; once either is spent, logins stop (the
	// right password too) until it refills.
	SourceFailures, AccountFailures ratelimit.Rate
}

// DefaultLoginConfig: bcrypt cost 12, 12 hours at most, 1 hour idle; 10 wrong
// logins per address then one every 30 s; 5 per account then one a minute.
func DefaultLoginConfig() LoginConfig {
	return LoginConfig{
		BcryptCost:      12,
		MaxAge:          12 * time.Hour,
		IdleTimeout:     time.Hour,
		SourceFailures:  ratelimit.Rate{Burst: 10, Every: 30 * time.Second},
		AccountFailures: ratelimit.Rate{Burst: 5, Every: time.Minute},
	}
}

// Validate checks the config.
func (c LoginConfig) Validate() error {
	switch {
	case c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost:
		return fmt.Errorf("login: bcrypt cost %d: want %d to %d", c.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	case c.MaxAge <= 0 || c.IdleTimeout <= 0:
		return errors.New("login: max age and idle timeout must be positive")
	}
	return nil
}

// The errors a login page shows.
var (
	ErrBadLogin = errors.New("the email or password is not right")
	// ErrChooseCompany: the email and password are right for logins with
	// more than one company; ask which.
	ErrChooseCompany = errors.New("this email has a login with more than one company; enter the Company ID too")
	// ErrNoSession: the cookie is missing, unknown, expired or logged out.
	ErrNoSession = errors.New("not logged in")
)

// RateLimitedError says logins are refused for a while.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many wrong logins; try again in %s", e.RetryAfter.Round(time.Second))
}

// Session is a logged-in user.
type Session struct {
	// Cookie is the session's secret ID; only Login returns it (the store
	// keeps its hash).
	Cookie string
	Hash   string
	// CSRF is the token the session's forms carry.
	CSRF  string
	User  store.User
	Perms Permissions
	// Company is the user's company.
	Company store.Company
}

// Logins logs users in and finds their sessions.
type Logins struct {
	cfg   LoginConfig
	store store.Store
	clk   clock.Clock
	log   *slog.Logger

	bySource, byAccount *ratelimit.Limiter

	// dummy is a hash to compare against for unknown emails, so they take
	// as long as known ones. Made on first need: bcrypt at cost 12 takes a
	// while, and a start should not wait for it.
	dummyOnce sync.Once
	dummy     []byte
}

// NewLogins returns the service.
func NewLogins(cfg LoginConfig, st store.Store, clk clock.Clock, log *slog.Logger) (*Logins, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Logins{cfg: cfg, store: st, clk: clk, log: log,
		bySource:  ratelimit.New(clk, cfg.SourceFailures),
		byAccount: ratelimit.New(clk, cfg.AccountFailures),
	}, nil
}

// burn spends the time a password check takes, for a login that has no
// hash to check against.
func (s *Logins) burn(password string) {
	s.dummyOnce.Do(func() {
		r := make([]byte, 16)
		rand.Read(r)
		s.dummy, _ = bcrypt.GenerateFromPassword([]byte(base64.RawStdEncoding.EncodeToString(r)), s.cfg.BcryptCost)
	})
	bcrypt.CompareHashAndPassword(s.dummy, []byte(password))
}

// Password rules: long enough to resist guessing, short enough for bcrypt
// (which reads 72 bytes at most).
const (
	MinPassword = 10
	MaxPassword = 72
)

// HashPassword hashes a new password with these logins' work factor.
func (s *Logins) HashPassword(password string) (string, error) {
	return HashPassword(password, s.cfg.BcryptCost)
}

// HashPassword returns the bcrypt hash of a new password.
func HashPassword(password string, cost int) (string, error) {
	switch {
	case len(password) < MinPassword:
		return "", fmt.Errorf("password: at least %d characters", MinPassword)
	case len(password) > MaxPassword:
		return "", fmt.Errorf("password: at most %d bytes", MaxPassword)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("password: %w", err)
	}
	return string(h), nil
}

// Login checks an email and password (and the Company ID when one email
// has logins with several companies) and starts a session.
func (s *Logins) Login(ctx context.Context, source, email, companyID, password string) (Session, error) {
	email = strings.TrimSpace(email)
	companyID = strings.TrimSpace(companyID)
	srcKey, accKey := "src "+source, "acct "+strings.ToLower(email)
	for _, l := range []struct {
		lim *ratelimit.Limiter
		key string
	}{{s.bySource, srcKey}, {s.byAccount, accKey}} {
		if ok, wait := l.lim.Check(l.key); !ok {
			return Session{}, &RateLimitedError{RetryAfter: wait}
		}
	}
	var cands []store.User
	err := s.store.View(ctx, func(tx store.Tx) error {
		us, err := tx.UsersByEmail(email)
		for _, u := range us {
			if u.PasswordHash != "" && (companyID == "" || u.CompanyID == companyID) {
				cands = append(cands, u)
			}
		}
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	var match []store.User
	if len(password) > MaxPassword || password == "" {
		s.burn("x")
	} else if len(cands) == 0 {
		s.burn(password)
	}
	for _, u := range cands {
		if len(password) <= MaxPassword && bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) == nil {
			match = append(match, u)
		}
	}
	switch len(match) {
	case 0:
		s.bySource.Take(srcKey)
		s.byAccount.Take(accKey)
		// The typed email is not logged: people type passwords into it.
		s.log.Info("login refused (wrong email or password)", "source", source, "known_email", len(cands) > 0)
		return Session{}, ErrBadLogin
	case 1:
	default:
		return Session{}, ErrChooseCompany
	}
	return s.start(ctx, source, match[0])
}

func (s *Logins) start(ctx context.Context, source string, u store.User) (Session, error) {
	cookie, err := random(32)
	if err != nil {
		return Session{}, err
	}
	csrf, err := random(32)
	if err != nil {
		return Session{}, err
	}
	now := s.clk.Now().UTC()
	rec := store.LoginSession{Hash: store.TokenHash(cookie), CompanyID: u.CompanyID, Email: u.Email, CSRF: csrf,
		CreatedAt: now, ExpiresAt: s.expiry(now, now), Source: source}
	sess := Session{Cookie: cookie, Hash: rec.Hash, CSRF: csrf, User: u}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		// Logins are rare: a good moment to clear out expired ones.
		if _, err := tx.DeleteLoginSessionsExpiredBefore(now); err != nil {
			return err
		}
		if sess.Company, err = tx.Company(u.CompanyID); err != nil {
			return err
		}
		if sess.Perms, err = LoadPermissions(tx, u); err != nil {
			return err
		}
		return tx.PutLoginSession(rec)
	})
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	s.log.Info("login none -> logged in", "company", u.CompanyID, "user", u.Email, "administrator", u.Administrator, "source", source)
	return sess, nil
}

func (s *Logins) expiry(created, now time.Time) time.Time {
	idle, max := now.Add(s.cfg.IdleTimeout), created.Add(s.cfg.MaxAge)
	if idle.After(max) {
		return max
	}
	return idle
}

// Find returns the session of a cookie, with the user and their
// permissions as they are now, and keeps it alive.
func (s *Logins) Find(ctx context.Context, cookie string) (Session, error) {
	if cookie == "" || len(cookie) > 64 {
		return Session{}, ErrNoSession
	}
	hash := store.TokenHash(cookie)
	now := s.clk.Now().UTC()
	var sess Session
	var rec store.LoginSession
	err := s.store.View(ctx, func(tx store.Tx) (err error) {
		if rec, err = tx.LoginSession(hash); err != nil {
			return err
		}
		if !now.Before(rec.ExpiresAt) {
			return store.ErrNotFound
		}
		if sess.User, err = tx.User(rec.CompanyID, rec.Email); err != nil {
			return err
		}
		if sess.User.PasswordHash == "" {
			return store.ErrNotFound // the login was taken away
		}
		if sess.Company, err = tx.Company(rec.CompanyID); err != nil {
			return err
		}
		sess.Perms, err = LoadPermissions(tx, sess.User)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	sess.Hash, sess.CSRF = hash, rec.CSRF
	// Move the idle expiry on, at most once a minute: each move is a
	// synced write.
	if next := s.expiry(rec.CreatedAt, now); next.Sub(rec.ExpiresAt) >= time.Minute {
		rec.ExpiresAt = next
		if err := s.store.Update(ctx, func(tx store.Tx) error { return tx.PutLoginSession(rec) }); err != nil {
			return Session{}, fmt.Errorf("login: %w", err)
		}
	}
	return sess, nil
}

// Logout ends the session of a cookie.
func (s *Logins) Logout(ctx context.Context, sess Session) error {
	err := s.store.Update(ctx, func(tx store.Tx) error { return tx.DeleteLoginSession(sess.Hash) })
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	s.log.Info("login logged in -> logged out", "company", sess.User.CompanyID, "user", sess.User.Email)
	return nil
}

func random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
