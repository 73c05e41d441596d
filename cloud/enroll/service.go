// Package enroll is the cloud's side of onboarding a clock: company
// lookup, mailing the authentication code to the company's administrators,
// and activation (checking the code, signing the clock's key). The clock's
// side of the same exchange is package onboarding.
//
// Decisions about a session are pure functions (plan.go) that table tests
// cover; the Service does the side effects around them: the store
// transaction, the mail, the log. Errors a clock should act on are
// *wire.Error; anything else is internal.
package enroll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"timeclock/clock"
	"timeclock/cloud/notify"
	"timeclock/cloud/pki"
	"timeclock/cloud/ratelimit"
	"timeclock/cloud/store"
	"timeclock/wire"
)

// Config is the onboarding rules.
type Config struct {
	// CodeTTL is how long a code works after it was sent.
	CodeTTL time.Duration
	// ResendAfter is how long after a send a new code may be asked for.
	ResendAfter time.Duration
	// MaxWrongTries wrong codes burn the code.
	MaxWrongTries int
	// MailFrom is the From of every mail.
	MailFrom string
	// MQTT is where activated clocks connect.
	MQTT wire.Endpoints
	// SessionRetention keeps finished sessions this long past their expiry.
	SessionRetention time.Duration
	Limits           Limits
}

// Limits are the token buckets. Each applies per source address and,
// separately, per clock serial.
type Limits struct {
	// Lookup bounds company lookups and code requests.
	Lookup ratelimit.Rate
	// WrongCompany bounds unknown company IDs; once spent, lookups stop
	// until it refills, so IDs cannot be guessed.
	WrongCompany ratelimit.Rate
	// Mail bounds code mails, so administrators cannot be flooded.
	Mail ratelimit.Rate
	// Activate bounds activation tries (on top of the per-code tries).
	Activate ratelimit.Rate
}

// DefaultConfig is the onboarding rules of the help article: 10 minutes,
// 5 tries, resend after 60 s.
func DefaultConfig() Config {
	return Config{
		CodeTTL:          10 * time.Minute,
		ResendAfter:      60 * time.Second,
		MaxWrongTries:    5,
		MailFrom:         "Timeclock Cloud <noreply@localhost>",
		SessionRetention: 24 * time.Hour,
		Limits: Limits{
			Lookup:       ratelimit.Rate{Burst: 20, Every: 3 * time.Second},
			WrongCompany: ratelimit.Rate{Burst: 5, Every: time.Minute},
			Mail:         ratelimit.Rate{Burst: 5, Every: 10 * time.Minute},
			Activate:     ratelimit.Rate{Burst: 15, Every: 20 * time.Second},
		},
	}
}

// Validate checks the config.
func (c Config) Validate() error {
	var errs []error
	if c.CodeTTL < time.Minute {
		errs = append(errs, fmt.Errorf("code ttl %v: shorter than a minute", c.CodeTTL))
	}
	if c.ResendAfter <= 0 || c.ResendAfter >= c.CodeTTL {
		errs = append(errs, fmt.Errorf("resend after %v: want between 0 and the code ttl", c.ResendAfter))
	}
	if c.MaxWrongTries < 1 {
		errs = append(errs, fmt.Errorf("max wrong tries %d: want at least 1", c.MaxWrongTries))
	}
	if _, err := (notify.Mail{From: c.MailFrom, To: "x@example.com"}).Bytes(); err != nil {
		errs = append(errs, fmt.Errorf("mail from %q: not an address", c.MailFrom))
	}
	if c.MQTT.TLS == "" || c.MQTT.WebSocket == "" {
		errs = append(errs, errors.New("mqtt endpoints: missing"))
	}
	return errors.Join(errs...)
}

// Deps are what the service works with.
type Deps struct {
	Store  store.Store
	CA     *pki.CA
	Mailer notify.Mailer
	Clock  clock.Clock
	Log    *slog.Logger
	// Activated, if set, is told after a clock was activated (its new
	// certificate is in the store), before the clock gets its answer: the
	// device registry drops what was pending for an older identity.
	Activated func(ctx context.Context, deviceID string)
}

// Service answers the onboarding API.
type Service struct {
	cfg Config
	Deps

	lookup, wrongCompany, mailed, activate *ratelimit.Limiter
}

// New returns the service.
func New(cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	if d.Store == nil || d.CA == nil || d.Mailer == nil || d.Clock == nil || d.Log == nil {
		return nil, errors.New("enroll: missing dependency")
	}
	return &Service{
		cfg:          cfg,
		Deps:         d,
		lookup:       ratelimit.New(d.Clock, cfg.Limits.Lookup),
		wrongCompany: ratelimit.New(d.Clock, cfg.Limits.WrongCompany),
		mailed:       ratelimit.New(d.Clock, cfg.Limits.Mail),
		activate:     ratelimit.New(d.Clock, cfg.Limits.Activate),
	}, nil
}

// Run purges old sessions every hour until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := s.Clock.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
		before := s.Clock.Now().Add(-s.cfg.SessionRetention)
		var n int
		err := s.Store.Update(ctx, func(tx store.Tx) (err error) {
			n, err = tx.DeleteSessionsExpiredBefore(before)
			return err
		})
		if err != nil && ctx.Err() == nil {
			s.Log.Error("purge sessions", "err", err)
		} else if n > 0 {
			s.Log.Info("purged old onboarding sessions", "count", n)
		}
		t.Reset(time.Hour)
	}
}

func apiError(code wire.ErrorCode, format string, args ...any) *wire.Error {
	return &wire.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// limited says whether both the source's and the serial's bucket have a
// token, and takes one from each when they do.
func limited(l *ratelimit.Limiter, source, serial, what string) *wire.Error {
	keys := []string{"src " + source, "sn " + serial}
	var wait time.Duration
	for _, k := range keys {
		if ok, w := l.Check(k); !ok && w > wait {
			wait = w
		}
	}
	if wait > 0 {
		return rateLimited(what, wait)
	}
	for _, k := range keys {
		l.Allow(k)
	}
	return nil
}

func checked(l *ratelimit.Limiter, source, serial, what string) *wire.Error {
	for _, k := range []string{"src " + source, "sn " + serial} {
		if ok, w := l.Check(k); !ok {
			return rateLimited(what, w)
		}
	}
	return nil
}

func take(l *ratelimit.Limiter, source, serial string) {
	l.Take("src " + source)
	l.Take("sn " + serial)
}

func rateLimited(what string, wait time.Duration) *wire.Error {
	e := apiError(wire.ErrRateLimited, "too many %s; try again in %d seconds", what, seconds(wait))
	e.RetryAfter = seconds(wait)
	return e
}

// seconds rounds up: "retry after 0 s" would invite a retry that fails.
func seconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

func (s *Service) companyAndAdmins(ctx context.Context, id string) (store.Company, []store.User, error) {
	var c store.Company
	var admins []store.User
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if c, err = tx.Company(id); err != nil {
			return err
		}
		users, err := tx.Users(id)
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Administrator && u.Email != "" {
				admins = append(admins, u)
			}
		}
		return nil
	})
	return c, admins, err
}

// Company looks a company up so the installer can confirm its name.
func (s *Service) Company(ctx context.Context, source string, req wire.CompanyRequest) (wire.CompanyResponse, error) {
	if e := limited(s.lookup, source, req.Device.Serial, "company lookups"); e != nil {
		return wire.CompanyResponse{}, e
	}
	if e := checked(s.wrongCompany, source, req.Device.Serial, "wrong company IDs"); e != nil {
		return wire.CompanyResponse{}, e
	}
	c, _, err := s.companyAndAdmins(ctx, req.CompanyID)
	if errors.Is(err, store.ErrNotFound) {
		take(s.wrongCompany, source, req.Device.Serial)
		s.Log.Info("unknown company ID", "company", req.CompanyID, "serial", req.Device.Serial, "source", source)
		return wire.CompanyResponse{}, unknownCompany(req.CompanyID)
	}
	if err != nil {
		return wire.CompanyResponse{}, fmt.Errorf("company %s: %w", req.CompanyID, err)
	}
	return wire.CompanyResponse{CompanyID: c.ID, Name: c.Name, Timezone: c.Timezone}, nil
}

func unknownCompany(id string) *wire.Error {
	return apiError(wire.ErrUnknownCompany, "no company has the ID %s; check the company ID", id)
}
