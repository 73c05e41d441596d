// Package wire holds the types the clock and the cloud exchange, and nothing
// else: the onboarding API (HTTPS, JSON) here, the MQTT payloads in mqtt.go.
// Both sides import it; it imports nothing of this module.
package wire

import "fmt"

// Error is the JSON body of every non-2xx API response.
type Error struct {
	// Code is machine-readable; the clock picks its screen by it.
	Code ErrorCode `json:"code"`
	// Message is for logs and people; never holds a secret.
	Message string `json:"message"`
	// TriesLeft is set with ErrWrongCode: wrong tries left before the code burns.
	TriesLeft int `json:"tries_left,omitempty"`
	// RetryAfter is set with ErrRateLimited and ErrResendTooSoon, in seconds.
	RetryAfter int `json:"retry_after,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// ErrorCode names an API failure.
type ErrorCode string

// The API's error codes.
const (
	ErrBadRequest     ErrorCode = "bad_request"     // malformed body or field
	ErrUnknownCompany ErrorCode = "unknown_company" // no company with that ID
	ErrNoAdmins       ErrorCode = "no_admins"       // the company has no administrator email on file
	ErrRateLimited    ErrorCode = "rate_limited"    // too many tries; RetryAfter says when
	ErrResendTooSoon  ErrorCode = "resend_too_soon" // a resend within 60 s; RetryAfter says when
	ErrNoSession      ErrorCode = "no_session"      // unknown or finished onboarding session
	ErrWrongCode      ErrorCode = "wrong_code"      // TriesLeft says how many remain
	ErrCodeExpired    ErrorCode = "code_expired"    // 10 minutes passed; ask for a new one
	ErrCodeBurned     ErrorCode = "code_burned"     // 5 wrong tries; ask for a new one
	ErrBadCSR         ErrorCode = "bad_csr"         // CSR unparsable, bad signature, not ECDSA P-256
	ErrDisabled       ErrorCode = "device_disabled" // the device was disabled by an administrator
	ErrInternal       ErrorCode = "internal"
	ErrUnauthorized   ErrorCode = "unauthorized"    // admin API: missing or wrong bearer token
	ErrNotFound       ErrorCode = "not_found"       // no such path or record
	ErrNotImplemented ErrorCode = "not_implemented" // a known path whose feature is not in this build
)
