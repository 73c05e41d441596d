// Package mobile is the cloud's side of the mobile app: the weekly company
// setup code (derived from a per-company secret made on first use),
// enrolling a copy of the app with it, the copies' check-ins, and disabling
// a copy. Enrolled copies are listed with the clocks on the Mobile Devices
// page. Errors an app should act on are *wire.Error.
package mobile

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"timeclock/clock"
	"timeclock/cloud/ratelimit"
	"timeclock/cloud/store"
	"timeclock/wire"
)

// Config is the mobile API's limits.
type Config struct {
	// Attempts bounds enrollments per source address.
	Attempts ratelimit.Rate
	// WrongCodes bounds wrong setup codes per source address; once spent,
	// enrollments from there stop until it refills, so codes cannot be
	// guessed.
	WrongCodes ratelimit.Rate
	// CheckIns bounds check-ins per copy.
	CheckIns ratelimit.Rate
}

// DefaultConfig: 20 enrollments at once then one every 3 s; 5 wrong codes
// then one a minute; 60 check-ins then one every 10 s.
func DefaultConfig() Config {
	return Config{
		Attempts:   ratelimit.Rate{Burst: 20, Every: 3 * time.Second},
		WrongCodes: ratelimit.Rate{Burst: 5, Every: time.Minute},
		CheckIns:   ratelimit.Rate{Burst: 60, Every: 10 * time.Second},
	}
}

// Validate checks the limits.
func (c Config) Validate() error {
	for name, r := range map[string]ratelimit.Rate{"attempts": c.Attempts, "wrong codes": c.WrongCodes, "check-ins": c.CheckIns} {
		if r.Burst < 1 || r.Every <= 0 {
			return fmt.Errorf("mobile: %s limit %+v: want a burst of 1 or more and a positive interval", name, r)
		}
	}
	return nil
}

// Deps are what the service works with.
type Deps struct {
	Store store.Store
	Clock clock.Clock
	Log   *slog.Logger
}

// Service is the mobile side of the cloud.
type Service struct {
	cfg   Config
	store store.Store
	clk   clock.Clock
	log   *slog.Logger

	attempts, wrong, checkIns *ratelimit.Limiter

	mu   sync.Mutex
	locs map[string]*time.Location // guarded by mu; loaded time zones
}

// New returns the service; cfg should have passed Validate (a zero rate
// is taken as one token a second).
func New(cfg Config, d Deps) *Service {
	return &Service{
		cfg: cfg, store: d.Store, clk: d.Clock, log: d.Log,
		attempts: ratelimit.New(d.Clock, cfg.Attempts),
		wrong:    ratelimit.New(d.Clock, cfg.WrongCodes),
		checkIns: ratelimit.New(d.Clock, cfg.CheckIns),
		locs:     map[string]*time.Location{},
	}
}

// Code is a company's setup code right now.
type Code struct {
	// Code is the code as shown and sent: "K7PM-3XQ2" (the dash is optional
	// when typed).
	Code string
	// Changes is when it stops working, in the company's time zone.
	Changes time.Time
	Company store.Company
}

// SetupCode returns the company's current setup code, making the
// company's secret on first use.
func (s *Service) SetupCode(ctx context.Context, companyID string) (Code, error) {
	c, secret, err := s.secret(ctx, companyID)
	if err != nil {
		return Code{}, err
	}
	loc, err := s.location(c.Timezone)
	if err != nil {
		return Code{}, err
	}
	code, changes := currentSetupCode(secret, c.ID, loc, s.clk.Now())
	return Code{Code: Display(code), Changes: changes, Company: c}, nil
}

// Display groups a code for reading: "K7PM3XQ2" -> "K7PM-3XQ2".
func Display(code string) string {
	if len(code) != SetupCodeLength {
		return code
	}
	return code[:4] + "-" + code[4:]
}

func (s *Service) secret(ctx context.Context, companyID string) (store.Company, []byte, error) {
	var c store.Company
	var secret []byte
	err := s.store.View(ctx, func(tx store.Tx) (err error) {
		if c, err = tx.Company(companyID); err != nil {
			return err
		}
		secret, err = tx.SetupSecret(companyID)
		return err
	})
	switch {
	case err == nil:
		return c, secret, nil
	case c.ID == "" || !errors.Is(err, store.ErrNotFound):
		// No such company, or the store failed.
		return c, nil, fmt.Errorf("setup code: %w", err)
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return c, nil, fmt.Errorf("setup code: %w", err)
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		// Another request may have made it meanwhile: keep theirs.
		if old, err := tx.SetupSecret(companyID); err == nil {
			secret = old
			return nil
		}
		secret = fresh
		return tx.PutSetupSecret(companyID, fresh)
	})
	if err != nil {
		return c, nil, fmt.Errorf("setup code: %w", err)
	}
	s.log.Info("setup secret none -> made (first use)", "company", companyID)
	return c, secret, nil
}

func (s *Service) location(name string) (*time.Location, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.locs[name]; ok {
		return l, nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("company time zone %q: %w", name, err)
	}
	s.locs[name] = l
	return l, nil
}

// ErrNotFound is returned by Disable for an ID that is not one of the
// company's copies of the app.
var ErrNotFound = errors.New("no such mobile device")

// Disable disables a copy of the app: it may make one last transmission
// (its next check-in is taken and told), then it is refused. Disabling a
// disabled copy changes nothing.
func (s *Service) Disable(ctx context.Context, companyID, id, by string) error {
	var from store.DeviceStatus
	err := s.store.Update(ctx, func(tx store.Tx) error {
		m, err := tx.MobileInstall(id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && m.CompanyID != companyID) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		from = m.Status
		if m.Status == store.DeviceDisabled {
			return nil
		}
		m.Status, m.DisabledAt, m.DisabledBy = store.DeviceDisabled, s.clk.Now().UTC(), by
		return tx.PutMobileInstall(m)
	})
	if err != nil {
		return fmt.Errorf("disable mobile device: %w", err)
	}
	if from != store.DeviceDisabled {
		s.log.Info("mobile device approved -> disabled (by an administrator)", "company", companyID, "id", id, "by", by)
	}
	return nil
}

func newID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func retryAfter(d time.Duration) int { return max(1, int(d/time.Second)) }

// internal hides a failure's details from the app (they go to the log).
func (s *Service) internal(what string, err error) error {
	s.log.Error("mobile: "+what, "err", err)
	return &wire.Error{Code: wire.ErrInternal, Message: "internal error; try again later"}
}
