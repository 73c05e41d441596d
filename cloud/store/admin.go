package store

import (
	"fmt"
	"time"
)

// AdminTx is the part of Tx behind the administrator's pages: logins,
// security roles, the company setup code's secret and the mobile app's
// installs. It is embedded in Tx.
type AdminTx interface {
	// Companies lists every company, ordered by ID.
	Companies() ([]Company, error)
	// User looks a user up by company and email (case-insensitive).
	User(companyID, email string) (User, error)
	// UsersByEmail lists the users with this email in any company (one
	// login may belong to several), ordered by company ID.
	UsersByEmail(email string) ([]User, error)

	// SetupSecret is the company's setup-code secret.
	SetupSecret(companyID string) ([]byte, error)
	PutSetupSecret(companyID string, secret []byte) error

	// Roles lists a company's security roles, ordered by ID.
	Roles(companyID string) ([]Role, error)
	Role(companyID, id string) (Role, error)
	PutRole(Role) error
	DeleteRole(companyID, id string) error

	// LoginSession looks a web login up by the hash of its cookie.
	LoginSession(hash string) (LoginSession, error)
	PutLoginSession(LoginSession) error
	DeleteLoginSession(hash string) error
	// DeleteLoginSessionsExpiredBefore removes logins that expired before t
	// and returns how many.
	DeleteLoginSessionsExpiredBefore(t Time) (int, error)

	MobileInstall(id string) (MobileInstall, error)
	// MobileInstallByApp finds a company's install by the app's own install ID.
	MobileInstallByApp(companyID, installID string) (MobileInstall, error)
	// MobileInstallByToken finds an install by the hash of its token.
	MobileInstallByToken(hash string) (MobileInstall, error)
	// MobileInstalls lists a company's installs, ordered by ID.
	MobileInstalls(companyID string) ([]MobileInstall, error)
	PutMobileInstall(MobileInstall) error

	// Settings are the cloud's own settings; zero (and no error) when none
	// were put.
	Settings() (Settings, error)
	PutSettings(Settings) error
}

// Settings are the cloud's settings kept in its store, set with
// "timeclock-cloud mail set" and "sms set" while the cloud is stopped. A
// flag given at start wins over them. The SMTP password and the SMS token
// are kept as they are (the cloud must present them); the store file is
// the cloud's alone (mode 0600).
type Settings struct {
	SMTP SMTPSettings `json:"smtp,omitzero"`
	SMS  SMSSettings  `json:"sms,omitzero"`
}

// SMTPSettings are the mail server that carries the codes.
type SMTPSettings struct {
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	TLS      string `json:"tls,omitempty"` // starttls, tls or none
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
	CAPEM    string `json:"ca_pem,omitempty"` // CAs to trust for the server; empty: the system's
	From     string `json:"from,omitempty"`   // the From address
}

// SMSSettings are the SMS provider that texts the company setup code.
type SMSSettings struct {
	URL   string `json:"url,omitempty"`
	User  string `json:"user,omitempty"`
	Token string `json:"token,omitempty"`
	From  string `json:"from,omitempty"`
}

// Role is a company's security role: a name and the permissions it grants,
// persisted by name (see package access). Administrators need none: they
// have every permission.
type Role struct {
	CompanyID   string    `json:"company_id"`
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Permissions []string  `json:"permissions"`
	CreatedAt   time.Time `json:"created_at"`
}

// LoginSession is a user logged in to the admin pages. It is keyed by the
// hash of the cookie's random ID: the ID itself is never stored.
type LoginSession struct {
	Hash      string `json:"hash"`
	CompanyID string `json:"company_id"`
	Email     string `json:"email"`
	// CSRF is the token every form of this login must carry.
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt moves forward with use (idle timeout), never past the
	// login's maximum age.
	ExpiresAt time.Time `json:"expires_at"`
	Source    string    `json:"source"`
}

// MobileInstall is one copy of the mobile app, enrolled with the company
// setup code. It is listed with the clocks on the Mobile Devices page.
type MobileInstall struct {
	ID        string `json:"id"` // the cloud's ID, shown in the ID column
	CompanyID string `json:"company_id"`
	// InstallID is the app's own identifier of the installation.
	InstallID  string         `json:"install_id"`
	Platform   MobilePlatform `json:"platform"`
	AppVersion string         `json:"app_version"`
	Nickname   string         `json:"nickname"` // the device name at enrollment
	Status     DeviceStatus   `json:"status"`
	// TokenHash is TokenHash of the install's API token.
	TokenHash     string    `json:"token_hash"`
	EnrolledAt    time.Time `json:"enrolled_at"`
	LastCheckedIn time.Time `json:"last_checked_in,omitzero"`
	LastUsedBy    string    `json:"last_used_by,omitempty"`
	DisabledAt    time.Time `json:"disabled_at,omitzero"`
	DisabledBy    string    `json:"disabled_by,omitempty"`
	// FinalSent is set once a disabled install made its one last
	// transmission; its token works no more.
	FinalSent bool `json:"final_sent,omitempty"`
}

// MobilePlatform is the phone's operating system, persisted by name.
type MobilePlatform uint8

// The platforms of the mobile app.
const (
	PlatformIOS MobilePlatform = iota + 1
	PlatformAndroid
)

var platformNames = map[MobilePlatform]string{
	PlatformIOS:     "ios",
	PlatformAndroid: "android",
}

func (p MobilePlatform) String() string {
	if n, ok := platformNames[p]; ok {
		return n
	}
	return fmt.Sprintf("MobilePlatform(%d)", uint8(p))
}

// Label is the Type column's wording.
func (p MobilePlatform) Label() string {
	switch p {
	case PlatformIOS:
		return "iPhone (iOS)"
	case PlatformAndroid:
		return "Android"
	}
	return p.String()
}

// MarshalText writes the platform's name.
func (p MobilePlatform) MarshalText() ([]byte, error) {
	if _, ok := platformNames[p]; !ok {
		return nil, fmt.Errorf("mobile platform %d has no name", uint8(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads a platform name.
func (p *MobilePlatform) UnmarshalText(b []byte) error {
	for k, n := range platformNames {
		if n == string(b) {
			*p = k
			return nil
		}
	}
	return fmt.Errorf("unknown mobile platform %q", b)
}
