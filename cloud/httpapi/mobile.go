package httpapi

import (
	"context"
	"io"
	"net/http"
	"strings"

	"timeclock/wire"
)

// Mobile is the mobile app's side of the cloud (package mobile).
type Mobile interface {
	Enroll(ctx context.Context, source string, req wire.EnrollRequest) (wire.EnrollResponse, error)
	CheckIn(ctx context.Context, token string, req wire.MobileCheckInRequest) (wire.MobileCheckInResponse, error)
	// Disable disables the company's copy id; its next check-in is its
	// last transmission.
	Disable(ctx context.Context, companyID, id, by string) error
}

func (a *api) mobileEnroll(w http.ResponseWriter, r *http.Request) {
	if a.Mobile == nil {
		writeAPIError(w, &wire.Error{Code: wire.ErrNotImplemented, Message: "the mobile app's API is not in this build"})
		return
	}
	req, e := decodeEnrollRequest(r.Body)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	resp, err := a.Mobile.Enroll(r.Context(), source(r), req)
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (a *api) mobileCheckIn(w http.ResponseWriter, r *http.Request) {
	if a.Mobile == nil {
		writeAPIError(w, &wire.Error{Code: wire.ErrNotImplemented, Message: "the mobile app's API is not in this build"})
		return
	}
	tok, ok := parseBearer(r.Header.Get("Authorization"))
	if !ok {
		writeAPIError(w, &wire.Error{Code: wire.ErrUnauthorized, Message: "want Authorization: Bearer <install token>"})
		return
	}
	req, e := decodeCheckInRequest(r.Body)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	resp, err := a.Mobile.CheckIn(r.Context(), tok, req)
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// decodeEnrollRequest reads and checks an enrollment. The setup code is
// checked for shape only: 8 letters and digits, spaces and dashes forgiven.
func decodeEnrollRequest(r io.Reader) (wire.EnrollRequest, *wire.Error) {
	var req wire.EnrollRequest
	if e := decodeJSON(r, &req); e != nil {
		return req, e
	}
	var e *wire.Error
	if req.CompanyID != "" {
		e = checkCompanyID(req.CompanyID)
	}
	return req, firstOf(e, checkSetupCode(req.SetupCode), checkMobileDevice(req.Device))
}

func decodeCheckInRequest(r io.Reader) (wire.MobileCheckInRequest, *wire.Error) {
	var req wire.MobileCheckInRequest
	if e := decodeJSON(r, &req); e != nil {
		return req, e
	}
	switch {
	case len(req.AppVersion) > 32 || !printable(req.AppVersion):
		return req, badRequest("app_version: want at most 32 printable characters")
	case len(req.LastUsedBy) > 64 || !printable(req.LastUsedBy):
		return req, badRequest("last_used_by: want at most 64 printable characters")
	}
	return req, nil
}

func checkSetupCode(c string) *wire.Error {
	n := 0
	for _, ch := range c {
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
			n++
		case ch == ' ' || ch == '-':
		default:
			return badRequest("setup_code: want the 8 letters and digits of the company setup code")
		}
	}
	if n != 8 || len(c) > 16 {
		return badRequest("setup_code: want the 8 letters and digits of the company setup code")
	}
	return nil
}

func checkMobileDevice(d wire.MobileDevice) *wire.Error {
	switch {
	case d.Platform != wire.PlatformIOS && d.Platform != wire.PlatformAndroid:
		return badRequest("device.platform: want %q or %q", wire.PlatformIOS, wire.PlatformAndroid)
	case d.AppVersion == "" || len(d.AppVersion) > 32 || !printable(d.AppVersion):
		return badRequest("device.app_version: want 1 to 32 printable characters")
	case strings.TrimSpace(d.Name) == "" || len(d.Name) > 64 || !printable(d.Name):
		return badRequest("device.device_name: want 1 to 64 printable characters")
	case d.InstallID == "" || len(d.InstallID) > 128 || !token(d.InstallID, "-_.:"):
		return badRequest("device.install_id: want 1 to 128 letters, digits, '-', '_', '.' or ':'")
	}
	return nil
}
