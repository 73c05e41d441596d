package wire

import (
	"fmt"
	"strings"
	"time"
)

// Onboarding API paths on the cloud's HTTPS port (443 in production). All are
// POST with a JSON body and answer JSON; failures answer an Error.
const (
	// PathCompany looks a company up by ID: CompanyRequest -> CompanyResponse.
	PathCompany = "/api/v1/onboarding/company"
	// PathCode sends (or resends) the authentication code to the company's
	// administrators: CodeRequest -> CodeResponse.
	PathCode = "/api/v1/onboarding/code"
	// PathActivate checks the code and signs the device's CSR:
	// ActivateRequest -> ActivateResponse.
	PathActivate = "/api/v1/onboarding/activate"
)

// PathTime is served on the plain HTTP port (80): a 204 whose Date header is
// the cloud's time, for reachability and for setting the clock when NTP is
// blocked.
const PathTime = "/time"

// Device describes the clock asking to be onboarded.
type Device struct {
	Serial   string `json:"serial"`   // the clock's serial number
	Model    string `json:"model"`    // board model, e.g. BN6500
	Firmware string `json:"firmware"` // timeclockd version
}

// A company ID is typed on a clock's keypad: digits only, from
// CompanyIDMinDigits to CompanyIDMaxDigits of them. The cloud refuses any
// other, and the clock checks it before asking.
const (
	CompanyIDMinDigits = 4
	CompanyIDMaxDigits = 12
)

// CheckCompanyID says what is wrong with a company ID's form, nil when
// nothing is.
func CheckCompanyID(id string) error {
	if len(id) < CompanyIDMinDigits || len(id) > CompanyIDMaxDigits || strings.TrimLeft(id, "0123456789") != "" {
		return fmt.Errorf("want %d to %d digits", CompanyIDMinDigits, CompanyIDMaxDigits)
	}
	return nil
}

// CompanyRequest asks for the company with this ID.
type CompanyRequest struct {
	CompanyID string `json:"company_id"`
	Device    Device `json:"device"`
}

// CompanyResponse names the company so the installer can confirm it.
type CompanyResponse struct {
	CompanyID string `json:"company_id"`
	Name      string `json:"name"`
	Timezone  string `json:"timezone"` // IANA name
}

// CodeRequest asks the cloud to email a code to the company's
// administrators. With Resend and the SessionID of an earlier request, the
// new code replaces (invalidates) the old one.
type CodeRequest struct {
	CompanyID string `json:"company_id"`
	Device    Device `json:"device"`
	Resend    bool   `json:"resend,omitempty"`
	SessionID string `json:"session_id,omitempty"`
}

// CodeResponse says the code was sent.
type CodeResponse struct {
	SessionID   string    `json:"session_id"`
	ExpiresAt   time.Time `json:"expires_at"`   // the code stops working
	ResendAfter time.Time `json:"resend_after"` // a resend is allowed from then
	Recipients  int       `json:"recipients"`   // how many administrators were mailed (never addresses)
}

// ActivateRequest proves the installer read the code and asks for a
// certificate for the device's own key.
type ActivateRequest struct {
	SessionID string `json:"session_id"`
	Code      string `json:"code"`
	CSR       string `json:"csr"` // PEM CERTIFICATE REQUEST, ECDSA P-256, made on the device
	Device    Device `json:"device"`
}

// ActivateResponse is the device's identity.
type ActivateResponse struct {
	DeviceID    string    `json:"device_id"`   // also the certificate's CN
	Certificate string    `json:"certificate"` // PEM client certificate
	CA          string    `json:"ca"`          // PEM CA for the cloud's server and broker certificates
	MQTT        Endpoints `json:"mqtt"`
	Timezone    string    `json:"timezone"` // the company's IANA zone
	Nickname    string    `json:"nickname"` // default nickname shown in the device list
	// TechnicianPasscode unlocks the clock's serial console. The clock keeps
	// only a hash of it.
	TechnicianPasscode string    `json:"technician_passcode"`
	ActivatedAt        time.Time `json:"activated_at"`
}

// Endpoints are where the device's MQTT session goes.
type Endpoints struct {
	// TLS is host:port of MQTT over TLS with the client certificate (59777).
	TLS string `json:"tls"`
	// WebSocket is the wss:// URL of MQTT over secure WebSocket (59778),
	// the fallback when the TLS port is filtered.
	WebSocket string `json:"websocket"`
}
