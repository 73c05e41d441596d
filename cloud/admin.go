package cloud

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"

	"timeclock/clock"
	"timeclock/cloud/access"
	"timeclock/cloud/mobile"
	"timeclock/cloud/notify"
	"timeclock/cloud/registry"
	"timeclock/cloud/releases"
	"timeclock/cloud/store"
	"timeclock/cloud/web"
	"timeclock/release"
)

// adminSide is the administrator's side of the cloud: logins, the admin
// pages, the mobile app's API and the fleet they show.
type adminSide struct {
	mobile *mobile.Service
	fleet  *web.Fleet
	pages  http.Handler
	// releases is the over-the-air update store (DATA/releases).
	releases *releases.Store
}

func newAdminSide(cfg Config, db store.Store, clk clock.Clock, log *slog.Logger, out io.Writer, clocks web.Disabler) (*adminSide, error) {
	mcfg := mobile.DefaultConfig()
	if err := mcfg.Validate(); err != nil {
		return nil, err
	}
	a := &adminSide{mobile: mobile.New(mcfg, mobile.Deps{Store: db, Clock: clk, Log: log})}
	var keys []ed25519.PublicKey
	for _, k := range releaseKeys(cfg) {
		pk, err := release.ParsePublicKey(k)
		if err != nil {
			return nil, fmt.Errorf("release key %q: %w", k, err)
		}
		keys = append(keys, pk)
	}
	rs, err := releases.Open(filepath.Join(cfg.DataDir, "releases"), keys)
	if err != nil {
		return nil, err
	}
	a.releases = rs
	a.fleet = &web.Fleet{Store: db, Clocks: clocks, Phones: a.mobile}
	if rn, ok := clocks.(web.Renamer); ok {
		a.fleet.Renamer = rn
	}
	if en, ok := clocks.(web.Enabler); ok {
		a.fleet.Enabler = en
	}
	if bd, ok := clocks.(web.BiometricDeleter); ok {
		a.fleet.Biometrics = bd
	}
	lcfg := access.DefaultLoginConfig()
	logins, err := access.NewLogins(lcfg, db, clk, log)
	if err != nil {
		return nil, err
	}
	sender, err := newSMS(cfg, out)
	if err != nil {
		return nil, err
	}
	a.pages, err = web.New(web.DefaultConfig(), web.Deps{
		Logins: logins, Store: db, Devices: a.fleet, SetupCodes: a.mobile, SMS: sender,
		Clock: clk, Log: log, MaxAge: lcfg.MaxAge, Releases: a.releases,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// releaseKeys are the keys uploads must be signed with: the configured
// ones, and in dev mode the development key.
func releaseKeys(cfg Config) []string {
	keys := append([]string(nil), cfg.ReleaseKeys...)
	if cfg.Dev {
		keys = append(keys, release.DevPublicKey())
	}
	return keys
}

// newSMS is the HTTP provider when configured, and in dev mode the outbox
// too; nil when there is neither (the page then says SMS is not set up).
func newSMS(cfg Config, out io.Writer) (notify.Texter, error) {
	var t notify.SMSTee
	if cfg.SMS.URL != "" {
		h, err := notify.NewSMSProvider(cfg.SMS)
		if err != nil {
			return nil, err
		}
		t = append(t, h)
	}
	if cfg.Dev {
		o, err := notify.NewSMSOutbox(filepath.Join(cfg.DataDir, "sms-outbox"), out)
		if err != nil {
			return nil, err
		}
		t = append(t, o)
	}
	switch len(t) {
	case 0:
		return nil, nil
	case 1:
		return t[0], nil
	}
	return t, nil
}

// withAdminPages serves the admin pages under /admin/ and the API for
// everything else. The host's root sends a browser to the pages: an
// administrator types the host name and expects the login page.
func withAdminPages(api, pages http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			http.Redirect(w, r, web.Prefix, http.StatusFound)
			return
		}
		if r.URL.Path == "/admin" {
			http.Redirect(w, r, web.Prefix, http.StatusMovedPermanently)
			return
		}
		if strings.HasPrefix(r.URL.Path, web.Prefix) {
			pages.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// registryDisabler is the sync registry's disable as the fleet wants it:
// the clock's one last transmission is awaited (not "now").
type registryDisabler struct{ reg *registry.Registry }

// Rename renames a clock through the registry (a rename command to it).
func (r registryDisabler) Rename(ctx context.Context, companyID, deviceID, nickname, by string) error {
	_, err := r.reg.Rename(ctx, companyID, deviceID, nickname, by)
	return err
}

// Enable lets a disabled clock be onboarded again.
func (r registryDisabler) Enable(ctx context.Context, companyID, deviceID, by string) error {
	_, err := r.reg.Enable(ctx, companyID, deviceID, by)
	return err
}

func (r registryDisabler) Disable(ctx context.Context, companyID, deviceID, by string) error {
	_, err := r.reg.Disable(ctx, companyID, deviceID, by, false)
	return err
}
