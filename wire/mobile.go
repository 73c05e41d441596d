package wire

import "time"

// The mobile app's API paths on the cloud's HTTPS port. Both are POST with
// a JSON body and answer JSON; failures answer an Error.
const (
	// PathMobileEnroll adds a copy of the mobile app to its company's
	// approved devices with the weekly company setup code:
	// EnrollRequest -> EnrollResponse.
	PathMobileEnroll = "/api/v1/mobile/enroll"
	// PathMobileCheckIn is an enrolled copy's check-in, with
	// "Authorization: Bearer <install token>":
	// MobileCheckInRequest -> MobileCheckInResponse.
	PathMobileCheckIn = "/api/v1/mobile/checkin"
)

// The mobile platforms.
const (
	PlatformIOS     = "ios"
	PlatformAndroid = "android"
)

// MobileDevice describes the copy of the app asking to be enrolled.
type MobileDevice struct {
	Platform   string `json:"platform"`    // "ios" or "android"
	AppVersion string `json:"app_version"` // e.g. "3.2.1"
	Name       string `json:"device_name"` // the phone's name; the Nickname column
	InstallID  string `json:"install_id"`  // the app's own ID of this installation
}

// EnrollRequest enrolls a copy of the app. CompanyID is optional: the setup
// code alone finds the company.
type EnrollRequest struct {
	SetupCode string       `json:"setup_code"`
	CompanyID string       `json:"company_id,omitempty"`
	Device    MobileDevice `json:"device"`
}

// EnrollResponse says the copy is approved and gives it its token.
type EnrollResponse struct {
	CompanyID   string `json:"company_id"`
	CompanyName string `json:"company_name"`
	Timezone    string `json:"timezone"` // IANA name
	// ID is the cloud's ID of this copy (the ID column).
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
	// Token authenticates the copy's check-ins; the cloud keeps only its
	// hash, and a new enrollment of the same copy replaces it.
	Token  string `json:"token"`
	Status string `json:"status"` // "approved"
}

// MobileCheckInRequest is an enrolled copy's check-in.
type MobileCheckInRequest struct {
	AppVersion string `json:"app_version"`
	// LastUsedBy is the employee logged in to the app when it was last
	// used to clock in or out.
	LastUsedBy string `json:"last_used_by,omitempty"`
}

// MobileCheckInResponse is the copy's status. A copy disabled by an
// administrator gets "disabled" with Final once (its last transmission was
// taken); after that every call answers ErrDisabled.
type MobileCheckInResponse struct {
	Status   string    `json:"status"` // "approved" or "disabled"
	Final    bool      `json:"final,omitempty"`
	ServerAt time.Time `json:"server_time"`
}

// ErrWrongSetupCode: the setup code is not this week's code of any company
// (codes change every Tuesday at 00:00, company time).
const ErrWrongSetupCode ErrorCode = "wrong_setup_code"

// ErrForbidden: the admin API caller's security role lacks the permission.
const ErrForbidden ErrorCode = "forbidden"
