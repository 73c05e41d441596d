// Package web is the administrator's pages, served under /admin/ on the
// cloud's HTTPS port: login, the Dashboard, Mobile Devices (the company
// setup code, sending it by SMS, approved and disabled devices, disabling
// one) and Security Roles. Pages are server-rendered and work without
// JavaScript. Every page checks the user's permission (package access) and
// every form carries the session's CSRF token.
package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"timeclock/clock"
	"timeclock/cloud/access"
	"timeclock/cloud/mobile"
	"timeclock/cloud/notify"
	"timeclock/cloud/ratelimit"
	"timeclock/cloud/releases"
	"timeclock/cloud/store"
)

// Prefix is where the pages live on the HTTPS port.
const Prefix = "/admin/"

// SetupCodes gives a company's current setup code (package mobile).
type SetupCodes interface {
	SetupCode(ctx context.Context, companyID string) (mobile.Code, error)
}

// Config is the pages' rules.
type Config struct {
	// SMSPerCompany bounds setup-code texts per company (they cost money
	// and reach people).
	SMSPerCompany ratelimit.Rate
}

// DefaultConfig: 20 texts at once per company, then one every 3 minutes.
func DefaultConfig() Config {
	return Config{SMSPerCompany: ratelimit.Rate{Burst: 20, Every: 3 * time.Minute}}
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.SMSPerCompany.Burst < 1 || c.SMSPerCompany.Every <= 0 {
		return fmt.Errorf("web: SMS limit %+v: want a burst of 1 or more and a positive interval", c.SMSPerCompany)
	}
	return nil
}

// Deps are what the pages work with.
type Deps struct {
	Logins     *access.Logins
	Store      store.Store
	Devices    *Fleet // the company's clocks and phones
	SetupCodes SetupCodes
	// SMS sends the setup code; nil means SMS is not set up.
	SMS   notify.Texter
	Clock clock.Clock
	Log   *slog.Logger
	// Releases is the over-the-air update store; nil leaves the Updates
	// page out.
	Releases *releases.Store
	// MaxAge is how long the session cookie is kept (the login's maximum
	// age).
	MaxAge time.Duration
}

type server struct {
	Deps
	cfg     Config
	smsRate *ratelimit.Limiter
	pages   *pages
}

// New returns the handler of everything under Prefix.
func New(cfg Config, d Deps) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	if d.MaxAge == 0 {
		d.MaxAge = access.DefaultLoginConfig().MaxAge
	}
	s := &server{Deps: d, cfg: cfg, smsRate: ratelimit.New(d.Clock, cfg.SMSPerCompany), pages: p}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/{$}", s.home)
	mux.HandleFunc("GET /admin/login", s.loginPage)
	mux.HandleFunc("POST /admin/login", s.loginPost)
	mux.Handle("POST /admin/logout", s.page("", s.logout))
	mux.Handle("GET /admin/static/style.css", staticHandler("style.css", "text/css; charset=utf-8"))
	mux.Handle("GET /admin/dashboard", s.page(access.DashboardAccess, s.dashboard))
	mux.Handle("GET /admin/mobile-devices", s.page(access.DevicesView, s.devices))
	mux.Handle("GET /admin/punches", s.page(access.DevicesView, s.punches))
	mux.Handle("GET /admin/biometrics", s.page("", s.biometricsPage))
	mux.Handle("POST /admin/biometrics/delete", s.page("", s.biometricsDelete))
	mux.Handle("GET /admin/mobile-devices/add", s.page(access.DevicesAdd, s.addDevicePage))
	mux.Handle("POST /admin/mobile-devices/add", s.page(access.DevicesAdd, s.addDevicePost))
	mux.Handle("GET /admin/mobile-devices/{id}/rename", s.page(access.DevicesEdit, s.renamePage))
	mux.Handle("POST /admin/mobile-devices/{id}/rename", s.page(access.DevicesEdit, s.renamePost))
	mux.Handle("POST /admin/mobile-devices/{id}/enable", s.page(access.DevicesDisable, s.enablePost))
	mux.Handle("GET /admin/mobile-devices/{id}/disable", s.page(access.DevicesDisable, s.disablePage))
	mux.Handle("POST /admin/mobile-devices/{id}/disable", s.page(access.DevicesDisable, s.disablePost))
	mux.Handle("GET /admin/updates", s.page("", s.adminOnly(s.updatesPage)))
	mux.Handle("POST /admin/updates/upload", s.pageLimit("", maxUpload, s.adminOnly(s.updatesUpload)))
	mux.Handle("POST /admin/updates/offer", s.page("", s.adminOnly(s.updatesOffer)))
	mux.Handle("GET /admin/users", s.page(access.UsersManage, s.usersPage))
	mux.Handle("POST /admin/users", s.page(access.UsersManage, s.userAdd))
	mux.Handle("POST /admin/users/password", s.page(access.UsersManage, s.userPassword))
	mux.Handle("POST /admin/users/remove", s.page(access.UsersManage, s.userRemove))
	mux.Handle("GET /admin/security-roles", s.page(access.RolesManage, s.rolesPage))
	mux.Handle("POST /admin/security-roles", s.page(access.RolesManage, s.roleCreate))
	mux.Handle("POST /admin/security-roles/users", s.page(access.RolesManage, s.roleAssign))
	mux.Handle("GET /admin/security-roles/{id}", s.page(access.RolesManage, s.rolesPage))
	mux.Handle("POST /admin/security-roles/{id}", s.page(access.RolesManage, s.roleSave))
	mux.Handle("POST /admin/security-roles/{id}/delete", s.page(access.RolesManage, s.roleDelete))
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		sess, _ := s.session(r) // the menu, when logged in
		s.fail(w, r, sess, http.StatusNotFound, "Page not found", "There is no page at this address.")
	})
	// Defence in depth beside the tokens: browsers' cross-site POSTs are
	// refused before any handler runs.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, nil, http.StatusForbidden, "Security check failed",
			"This form was sent from another site, so it was refused. Open the page here and try again.")
	}))
	return securityHeaders(cop.Handler(mux)), nil
}

// handlerFunc is a page that needs a logged-in user.
type handlerFunc func(w http.ResponseWriter, r *http.Request, sess *access.Session)

// page checks, in order: a live login (else to the login page), the
// permission (else 403), and on POST the CSRF token (else 403).
func (s *server) page(perm access.Permission, h handlerFunc) http.Handler {
	return s.pageLimit(perm, maxForm, h)
}

// pageLimit is page with a larger bound on the form (an upload).
func (s *server) pageLimit(perm access.Permission, limit int64, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.session(r)
		if errors.Is(err, access.ErrNoSession) {
			s.clearSessionCookie(w)
			next := ""
			if r.Method == http.MethodGet {
				next = r.URL.Path
			}
			http.Redirect(w, r, loginURL(next), http.StatusSeeOther)
			return
		}
		if err != nil {
			s.internal(w, r, nil, err)
			return
		}
		if perm != "" && !sess.Perms.Has(perm) {
			s.forbidden(w, r, sess, perm)
			return
		}
		if r.Method == http.MethodPost && !s.csrfOK(w, r, sess.CSRF, limit) {
			s.csrfFailed(w, r, sess)
			return
		}
		h(w, r, sess)
	})
}

func (s *server) session(r *http.Request) (*access.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, access.ErrNoSession
	}
	sess, err := s.Logins.Find(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

// csrfField is the hidden field every form carries.
const csrfField = "csrf"

// maxForm bounds a form body; the largest (role assignments) is small.
const maxForm = 64 << 10

func (s *server) csrfOK(w http.ResponseWriter, r *http.Request, want string, limit int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	got := r.PostFormValue(csrfField)
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *server) csrfFailed(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	s.Log.Warn("admin page: form refused (CSRF token missing or wrong)", "path", r.URL.Path, "source", source(r))
	s.fail(w, r, sess, http.StatusForbidden, "Security check failed",
		"This form was missing its security token, or it came from a page that is no longer valid, so nothing was changed. Go back, reload the page and try again.")
}

func (s *server) forbidden(w http.ResponseWriter, r *http.Request, sess *access.Session, p access.Permission) {
	s.Log.Info("admin page: refused (no permission)", "path", r.URL.Path, "user", sess.User.Email, "needs", string(p))
	s.fail(w, r, sess, http.StatusForbidden, "You do not have permission",
		`This page needs the "`+p.Label()+`" permission, which your security role does not grant. Ask an administrator to grant it under Manage, Security Roles.`)
}

// home sends the user to the first page they may open.
func (s *server) home(w http.ResponseWriter, r *http.Request) {
	sess, err := s.session(r)
	if errors.Is(err, access.ErrNoSession) {
		http.Redirect(w, r, loginURL(""), http.StatusSeeOther)
		return
	}
	if err != nil {
		s.internal(w, r, nil, err)
		return
	}
	if to := landing(sess.Perms); to != "" {
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	s.fail(w, r, sess, http.StatusForbidden, "No pages to show",
		"Your login has no permissions yet. Ask an administrator to give you a security role (Manage, Security Roles).")
}

// landing is the first page the permissions open, or "" for none.
func landing(p access.Permissions) string {
	switch {
	case p.Has(access.DashboardAccess):
		return "/admin/dashboard"
	case p.Has(access.DevicesView):
		return "/admin/mobile-devices"
	case p.Has(access.DevicesAdd):
		return "/admin/mobile-devices/add"
	case p.Has(access.RolesManage):
		return "/admin/security-roles"
	}
	return ""
}

// securityHeaders: no scripts, no framing, no external anything, and no
// caching of pages that show a setup code.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Strict-Transport-Security", "max-age=31536000")
		if hd.Get("Cache-Control") == "" {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}
