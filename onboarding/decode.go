package onboarding

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"timeclock/onboarding/identity"
	"timeclock/wire"
)

// Limits on what the clock accepts; the screens and files are small.
const (
	maxName     = 100 // company name, nickname
	maxID       = 64  // device, company and session IDs
	maxPasscode = 128
)

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadResponse, fmt.Sprintf(format, args...))
}

// decodeJSON reads one JSON object (unknown fields are allowed: a newer
// cloud may add some) and nothing after it.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return badf("%v", err)
	}
	if dec.More() {
		return badf("data after the JSON object")
	}
	return nil
}

func checkText(field, s string, max int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return badf("%s missing", field)
	case !utf8.ValidString(s) || utf8.RuneCountInString(s) > max:
		return badf("%s not valid text of at most %d characters", field, max)
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return badf("%s has control characters", field)
		}
	}
	return nil
}

func checkZone(field, s string) error {
	if s == "" {
		return badf("%s missing", field)
	}
	if _, err := time.LoadLocation(s); err != nil {
		return badf("%s %q: unknown timezone", field, s)
	}
	return nil
}

// checkID checks a device, company or session identifier.
func checkID(field, s string) error {
	if s == "" || len(s) > maxID {
		return badf("%s missing or longer than %d", field, maxID)
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.') {
			return badf("%s has a character %q", field, c)
		}
	}
	return nil
}

// DecodeError reads a non-2xx answer: a *wire.Error when the body is one,
// otherwise an ErrBadResponse naming the HTTP status.
func DecodeError(status int, body []byte) error {
	var e wire.Error
	if err := decodeJSON(body, &e); err != nil || e.Code == "" || len(e.Code) > 64 {
		snippet := string(body)
		if len(snippet) > 80 || !utf8.ValidString(snippet) {
			snippet = strconv.Quote(string(body[:min(len(body), 80)]))
		}
		return badf("HTTP %d %s", status, strings.TrimSpace(snippet))
	}
	e.TriesLeft = max(e.TriesLeft, 0)
	e.RetryAfter = min(max(e.RetryAfter, 0), 24*3600)
	if len(e.Message) > 500 {
		e.Message = e.Message[:500]
	}
	return &e
}

// DecodeCompany reads a CompanyResponse.
func DecodeCompany(body []byte) (wire.CompanyResponse, error) {
	var r wire.CompanyResponse
	if err := decodeJSON(body, &r); err != nil {
		return r, err
	}
	if err := checkID("company_id", r.CompanyID); err != nil {
		return r, err
	}
	if err := checkText("name", r.Name, maxName); err != nil {
		return r, err
	}
	return r, checkZone("timezone", r.Timezone)
}

// DecodeCode reads a CodeResponse.
func DecodeCode(body []byte) (wire.CodeResponse, error) {
	var r wire.CodeResponse
	if err := decodeJSON(body, &r); err != nil {
		return r, err
	}
	if err := checkID("session_id", r.SessionID); err != nil {
		return r, err
	}
	switch {
	case r.ExpiresAt.IsZero():
		return r, badf("expires_at missing")
	case r.ResendAfter.IsZero():
		return r, badf("resend_after missing")
	case r.ResendAfter.After(r.ExpiresAt.Add(time.Hour)), r.ExpiresAt.Sub(r.ResendAfter) > 24*time.Hour:
		return r, badf("expires_at %v and resend_after %v do not fit together", r.ExpiresAt, r.ResendAfter)
	case r.Recipients < 0 || r.Recipients > 10000:
		return r, badf("recipients %d", r.Recipients)
	}
	return r, nil
}

// DecodeActivate reads an ActivateResponse: the certificate and CA must be
// PEM certificates, the endpoints addresses. On error it returns the zero
// value, so the passcode of a refused answer goes nowhere.
func DecodeActivate(body []byte) (wire.ActivateResponse, error) {
	r, err := decodeActivate(body)
	if err != nil {
		return wire.ActivateResponse{}, err
	}
	return r, nil
}

func decodeActivate(body []byte) (wire.ActivateResponse, error) {
	var r wire.ActivateResponse
	if err := decodeJSON(body, &r); err != nil {
		return r, err
	}
	if err := checkID("device_id", r.DeviceID); err != nil {
		return r, err
	}
	if _, err := identity.ParseCertificate([]byte(r.Certificate)); err != nil {
		return r, badf("certificate: %v", err)
	}
	if _, err := identity.ParseCertificate([]byte(r.CA)); err != nil {
		return r, badf("ca: %v", err)
	}
	if err := checkZone("timezone", r.Timezone); err != nil {
		return r, err
	}
	if err := checkText("nickname", r.Nickname, maxName); err != nil {
		return r, err
	}
	if err := checkText("technician_passcode", r.TechnicianPasscode, maxPasscode); err != nil {
		// Never quote the passcode itself.
		return r, badf("technician_passcode missing or invalid")
	}
	if host, port, err := net.SplitHostPort(r.MQTT.TLS); err != nil || host == "" || port == "" {
		return r, badf("mqtt.tls %q is not host:port", r.MQTT.TLS)
	}
	if r.MQTT.WebSocket != "" {
		u, err := url.Parse(r.MQTT.WebSocket)
		if err != nil || u.Scheme != "wss" || u.Host == "" {
			return r, badf("mqtt.websocket %q is not a wss:// URL", r.MQTT.WebSocket)
		}
	}
	return r, nil
}
