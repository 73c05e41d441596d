package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"timeclock/wire"
)

// status is the HTTP status of each API error code.
var status = map[wire.ErrorCode]int{
	wire.ErrBadRequest:     http.StatusBadRequest,
	wire.ErrUnknownCompany: http.StatusNotFound,
	wire.ErrNoAdmins:       http.StatusConflict,
	wire.ErrRateLimited:    http.StatusTooManyRequests,
	wire.ErrResendTooSoon:  http.StatusTooManyRequests,
	wire.ErrNoSession:      http.StatusNotFound,
	wire.ErrWrongCode:      http.StatusForbidden,
	wire.ErrCodeExpired:    http.StatusGone,
	wire.ErrCodeBurned:     http.StatusGone,
	wire.ErrBadCSR:         http.StatusBadRequest,
	wire.ErrDisabled:       http.StatusForbidden,
	wire.ErrInternal:       http.StatusInternalServerError,
	wire.ErrUnauthorized:   http.StatusUnauthorized,
	wire.ErrNotFound:       http.StatusNotFound,
	wire.ErrNotImplemented: http.StatusNotImplemented,
	wire.ErrWrongSetupCode: http.StatusForbidden,
	wire.ErrForbidden:      http.StatusForbidden,
}

// StatusOf is the HTTP status an error code is sent with.
func StatusOf(c wire.ErrorCode) int {
	if s, ok := status[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeAPIError(w http.ResponseWriter, e *wire.Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Code == wire.ErrUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="timeclock admin"`)
	}
	writeJSON(w, StatusOf(e.Code), e)
}

// writeErr answers err: a *wire.Error as it is, anything else as an
// internal error whose details go to the log only.
func writeErr(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var we *wire.Error
	if errors.As(err, &we) {
		writeAPIError(w, we)
		return
	}
	log.Error("request failed", "path", r.URL.Path, "err", err)
	writeAPIError(w, &wire.Error{Code: wire.ErrInternal, Message: "internal error; try again later"})
}

func badRequest(format string, args ...any) *wire.Error {
	return &wire.Error{Code: wire.ErrBadRequest, Message: sprintf(format, args...)}
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeAPIError(w, &wire.Error{Code: wire.ErrNotFound, Message: "no such path: " + r.URL.Path})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusMethodNotAllowed)
	json.NewEncoder(w).Encode(&wire.Error{Code: wire.ErrBadRequest, Message: "method not allowed; use " + allow})
}
