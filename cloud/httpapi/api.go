// Package httpapi is the cloud's HTTP surface: the HTTPS API (onboarding,
// admin) and the plain HTTP port (reachability and time). Every failure is
// answered with a JSON wire.Error, never an HTML or plain-text page.
package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"timeclock/clock"
	"timeclock/cloud/ratelimit"
	"timeclock/cloud/releases"
	"timeclock/cloud/store"
	"timeclock/wire"
)

// Onboarding is the onboarding service the API calls.
type Onboarding interface {
	Company(ctx context.Context, source string, req wire.CompanyRequest) (wire.CompanyResponse, error)
	RequestCode(ctx context.Context, source string, req wire.CodeRequest) (wire.CodeResponse, error)
	Activate(ctx context.Context, source string, req wire.ActivateRequest) (wire.ActivateResponse, error)
}

// Deps are what the API works with.
type Deps struct {
	Onboarding Onboarding
	Store      store.Store
	Clock      clock.Clock
	Log        *slog.Logger
	// DevClock, set in --dev mode only, enables PathDevClock.
	DevClock DevClock
	// Devices is the device registry (disable, rename, commands, roster
	// pushes); nil answers those with not_implemented.
	Devices Devices
	// AuthFailures bounds wrong admin tokens per source address; nil uses
	// 10 at once, then one every 30 s.
	AuthFailures *ratelimit.Limiter
	// Mobile serves the mobile app's enrollment and check-ins.
	Mobile Mobile
	// Releases is the over-the-air update store; nil answers its routes
	// with not_implemented.
	Releases *releases.Store
	// Authorize, when set, decides whether an admin token's user may use a
	// permission (see package access); nil allows every valid token.
	Authorize Authorizer
}

type api struct {
	Deps
}

// NewAPI returns the HTTPS API's handler.
func NewAPI(d Deps) http.Handler {
	if d.AuthFailures == nil {
		d.AuthFailures = ratelimit.New(d.Clock, ratelimit.Rate{Burst: 10, Every: 30 * time.Second})
	}
	a := &api{Deps: d}
	mux := http.NewServeMux()
	mux.Handle(wire.PathCompany, post(a.company))
	mux.Handle(wire.PathCode, post(a.code))
	mux.Handle(wire.PathActivate, post(a.activate))
	mux.Handle("/api/v1/devices", a.admin("GET", a.devices))
	mux.Handle("/api/v1/devices/{id}", a.admin("GET", a.device))
	mux.Handle("/api/v1/devices/{id}/disable", a.admin("POST", a.disable))
	mux.Handle("/api/v1/devices/{id}/rename", a.admin("POST", a.rename))
	mux.Handle("/api/v1/devices/{id}/enable", a.admin("POST", a.enable))
	mux.Handle("/api/v1/devices/{id}/commands", a.admin("POST", a.command))
	mux.Handle("/api/v1/devices/{id}/update", a.admin("POST", a.updateDevice))
	mux.Handle("/api/v1/releases", a.releasesHandler())
	mux.Handle(wire.PathUpdateReport, post(a.updateReport))
	mux.Handle(wire.PathStanding, http.HandlerFunc(a.standing))
	mux.Handle(wire.PathUpdateArtifact+"{id}", http.HandlerFunc(a.artifact))
	mux.Handle("/api/v1/punches", a.admin("GET", a.punches))
	mux.Handle("/api/v1/biometrics", a.admin("GET", a.biometrics))
	mux.Handle("/api/v1/biometrics/{employee}/delete", a.admin("POST", a.deleteBiometrics))
	mux.Handle("/api/v1/roster", a.rosterHandler())
	if d.DevClock != nil {
		mux.Handle(PathDevClock, a.admin("POST", a.devClock))
	}
	mux.Handle(wire.PathMobileEnroll, post(a.mobileEnroll))
	mux.Handle(wire.PathMobileCheckIn, post(a.mobileCheckIn))
	mux.Handle(wire.PathTime, timeHandler(d.Clock))
	mux.HandleFunc("/{$}", reachable)
	mux.HandleFunc("/", notFound)
	return a.logged(mux)
}

// NewPlain returns the plain HTTP port's handler: reachability and time.
func NewPlain(clk clock.Clock, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(wire.PathTime, timeHandler(clk))
	mux.HandleFunc("/{$}", reachable)
	mux.HandleFunc("/", notFound)
	return (&api{Deps: Deps{Log: log}}).logged(mux)
}

// timeHandler answers 204 with the cloud's time in the Date header, for a
// clock whose NTP is blocked.
func timeHandler(clk clock.Clock) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		w.Header().Set("Date", clk.Now().UTC().Format(http.TimeFormat))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

func reachable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("timeclock cloud\n"))
}

// source is the client's address without the port: the key of the
// per-address rate limits.
func source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func post(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
		h(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(c int) {
	s.code = c
	s.ResponseWriter.WriteHeader(c)
}

// logged logs each request at debug level: method, path, status, source.
// Never bodies, headers or query strings: they may carry codes or tokens.
func (a *api) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		a.Log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", sw.code, "source", source(r))
	})
}
