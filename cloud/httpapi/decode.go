package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"timeclock/wire"
)

// maxBody bounds a request body; the largest (an activation with its CSR)
// is under 2 KiB.
const maxBody = 64 << 10

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// decodeJSON reads one JSON object from r into v. Unknown fields are
// allowed so newer clocks can talk to this cloud; trailing data is not.
func decodeJSON(r io.Reader, v any) *wire.Error { return decodeJSONWith(r, v, maxBody, false) }

// decodeJSONWith is decodeJSON with a size limit and, for administrators'
// bodies, unknown fields refused (a misspelt field must not be ignored).
func decodeJSONWith(r io.Reader, v any, limit int, strict bool) *wire.Error {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return badRequest("reading the body: %v", err)
	}
	if len(b) > limit {
		return badRequest("body larger than %d bytes", limit)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return badRequest("empty body; want a JSON object")
		case errors.As(err, &se):
			return badRequest("body is not JSON: %v", err)
		case errors.As(err, &te) && te.Field == "":
			return badRequest("body: want a JSON object")
		case errors.As(err, &te):
			return badRequest("field %s: want %s", te.Field, te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return badRequest("%s", strings.TrimPrefix(err.Error(), "json: "))
		}
		return badRequest("body: %v", err)
	}
	if dec.More() {
		return badRequest("body has data after the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("body has data after the JSON object")
	}
	return nil
}

func decodeCompanyRequest(r io.Reader) (wire.CompanyRequest, *wire.Error) {
	var req wire.CompanyRequest
	if e := decodeJSON(r, &req); e != nil {
		return req, e
	}
	return req, firstOf(checkCompanyID(req.CompanyID), checkDevice(req.Device))
}

func decodeCodeRequest(r io.Reader) (wire.CodeRequest, *wire.Error) {
	var req wire.CodeRequest
	if e := decodeJSON(r, &req); e != nil {
		return req, e
	}
	e := firstOf(checkCompanyID(req.CompanyID), checkDevice(req.Device))
	if e == nil && (req.Resend || req.SessionID != "") {
		e = checkSessionID(req.SessionID)
	}
	return req, e
}

func decodeActivateRequest(r io.Reader) (wire.ActivateRequest, *wire.Error) {
	var req wire.ActivateRequest
	if e := decodeJSON(r, &req); e != nil {
		return req, e
	}
	e := firstOf(checkSessionID(req.SessionID), checkCode(req.Code), checkDevice(req.Device))
	if e == nil && strings.TrimSpace(req.CSR) == "" {
		e = badRequest("csr: missing")
	}
	return req, e
}

func firstOf(es ...*wire.Error) *wire.Error {
	for _, e := range es {
		if e != nil {
			return e
		}
	}
	return nil
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// checkCompanyID: company IDs are typed on a keypad (wire's rule).
func checkCompanyID(id string) *wire.Error {
	if err := wire.CheckCompanyID(id); err != nil {
		return badRequest("company_id: %v", err)
	}
	return nil
}

func checkCode(c string) *wire.Error {
	if len(c) != 6 || !isDigits(c) {
		return badRequest("code: want 6 digits")
	}
	return nil
}

func checkSessionID(id string) *wire.Error {
	if id == "" || len(id) > 64 || !token(id, "-_") {
		return badRequest("session_id: missing or malformed")
	}
	return nil
}

// checkDevice keeps serials and models to characters safe in keys, mail
// and logs.
func checkDevice(d wire.Device) *wire.Error {
	switch {
	case d.Serial == "" || len(d.Serial) > 64 || !token(d.Serial, "-_.:"):
		return badRequest("device.serial: want 1 to 64 letters, digits, '-', '_', '.' or ':'")
	case d.Model == "" || len(d.Model) > 32 || !token(d.Model, "-_. "):
		return badRequest("device.model: want 1 to 32 letters, digits, spaces, '-', '_' or '.'")
	case len(d.Firmware) > 64 || !printable(d.Firmware):
		return badRequest("device.firmware: want at most 64 printable characters")
	}
	return nil
}

func token(s, extra string) bool {
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(extra, c)
		if !ok {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// parseBearer returns the token of an "Authorization: Bearer TOKEN" header.
func parseBearer(h string) (string, bool) {
	const p = "bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	t := strings.TrimSpace(h[len(p):])
	if t == "" || len(t) > 256 || !token(t, "-_.~+/=") {
		return "", false
	}
	return t, true
}
