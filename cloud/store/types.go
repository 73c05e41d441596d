package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Time is time.Time; the alias keeps the Tx interface short.
type Time = time.Time

// Company is a customer account. Its ID is what installers type on the
// clock's keypad, so it is digits only.
type Company struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Timezone string `json:"timezone"` // IANA name
}

// User is a person with a login to the company's account. Only users with
// the administrator profile receive authentication codes.
type User struct {
	CompanyID     string `json:"company_id"`
	Email         string `json:"email"`
	Name          string `json:"name"`
	Administrator bool   `json:"administrator"`
	// PasswordHash is the bcrypt hash of the admin pages' password; empty
	// means the user cannot log in.
	PasswordHash string `json:"password_hash,omitempty"`
	// RoleID is the user's security role (non-administrators); empty is none.
	RoleID string `json:"role_id,omitempty"`
}

// Session is one onboarding attempt of one clock with one company: the
// code mailed for it (hashed) and how it went.
type Session struct {
	ID        string `json:"id"`
	CompanyID string `json:"company_id"`
	Serial    string `json:"serial"`
	Model     string `json:"model"`
	Firmware  string `json:"firmware"`
	// Source is the network address the code was asked from.
	Source string `json:"source"`

	State SessionState `json:"state"`
	// CodeSalt and CodeHash are the code, salted and hashed; the code itself
	// is never stored.
	CodeSalt   []byte    `json:"code_salt"`
	CodeHash   []byte    `json:"code_hash"`
	SentAt     time.Time `json:"sent_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	WrongTries int       `json:"wrong_tries"`
	Recipients int       `json:"recipients"`
	// DeviceID is set once the session activated a device.
	DeviceID string `json:"device_id,omitempty"`
}

// SessionState says where an onboarding session is. States are persisted
// by name.
type SessionState uint8

// The session states.
const (
	// SessionCodeSent: a code was mailed and may be entered.
	SessionCodeSent SessionState = iota + 1
	// SessionBurned: too many wrong tries; only a resend helps.
	SessionBurned
	// SessionActivated: the code was used; it never works again.
	SessionActivated
	// SessionReplaced: a newer session of the same clock took over.
	SessionReplaced
	// SessionMailFailed: no administrator could be mailed; the code is void.
	SessionMailFailed
)

var sessionStateNames = map[SessionState]string{
	SessionCodeSent:   "code_sent",
	SessionBurned:     "burned",
	SessionActivated:  "activated",
	SessionReplaced:   "replaced",
	SessionMailFailed: "mail_failed",
}

func (s SessionState) String() string {
	if n, ok := sessionStateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("SessionState(%d)", uint8(s))
}

// MarshalText writes the state's name.
func (s SessionState) MarshalText() ([]byte, error) {
	if _, ok := sessionStateNames[s]; !ok {
		return nil, fmt.Errorf("session state %d has no name", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a state name.
func (s *SessionState) UnmarshalText(b []byte) error {
	for k, n := range sessionStateNames {
		if n == string(b) {
			*s = k
			return nil
		}
	}
	return fmt.Errorf("unknown session state %q", b)
}

// Device is an onboarded clock on a company's device list.
type Device struct {
	ID        string       `json:"id"` // also the client certificate's CN
	CompanyID string       `json:"company_id"`
	Serial    string       `json:"serial"`
	Model     string       `json:"model"`
	Firmware  string       `json:"firmware"`
	Nickname  string       `json:"nickname"`
	Status    DeviceStatus `json:"status"`

	ActivatedAt   time.Time `json:"activated_at"`
	LastCheckedIn time.Time `json:"last_checked_in,omitzero"`
	// LastUsedBy is the employee who last punched on the clock.
	LastUsedBy string    `json:"last_used_by,omitempty"`
	DisabledAt time.Time `json:"disabled_at,omitzero"`
	// DisabledBy is the user who disabled the clock.
	DisabledBy string `json:"disabled_by,omitempty"`
	// EnabledAt and EnabledBy: an administrator enabled the disabled clock
	// again, so it may be onboarded again (until then the onboarding API
	// refuses it with disabled). Activation clears them with the disable.
	EnabledAt time.Time `json:"enabled_at,omitzero"`
	EnabledBy string    `json:"enabled_by,omitempty"`
	// CertSerial is the hex serial of the client certificate issued last;
	// older certificates of the same device are no longer its own.
	CertSerial string `json:"cert_serial"`
	// RevokedSerials are this device's certificates refused for good: the
	// one in use when a disable completed, and the ones a new onboarding
	// replaced. An external broker's CRL is made of them.
	RevokedSerials []string `json:"revoked_serials,omitempty"`

	// The last check-in (status topic).
	Online    bool      `json:"online,omitempty"`
	StatusAt  time.Time `json:"status_at,omitzero"` // when the last status (online or not) came
	Pending   int       `json:"pending,omitempty"`  // punches waiting on the clock
	OldestAge int64     `json:"oldest_pending_age_s,omitempty"`
	// NTPSynced says the clock's kernel had its time NTP-synchronised at
	// the check-in. Stored records keep the key clock_synced, its name
	// before the rename, so existing databases read unchanged.
	NTPSynced bool   `json:"clock_synced,omitempty"`
	Interface string `json:"interface,omitempty"` // network interface in use
	// ClockSource and ClockOffsetMS are how the clock knew its time and
	// the cloud's time minus its own (ms) at the check-in; empty and nil
	// from clocks that do not say.
	ClockSource   string `json:"clock_source,omitempty"`
	ClockOffsetMS *int64 `json:"clock_offset_ms,omitempty"`
	// Storage is the clock's storage damage notice at the check-in (empty:
	// sound, or cleared by service).
	Storage string `json:"storage,omitempty"`

	// Punches stored from this device.
	HighSeq     uint64    `json:"high_seq,omitempty"` // highest sequence number stored
	Punches     uint64    `json:"punches,omitempty"`  // how many
	LastPunchAt time.Time `json:"last_punch_at,omitzero"`

	// RosterVersion is the roster version the clock confirmed; 0 when
	// unknown (it gets a full roster). RosterFailed is a version whose full
	// roster the clock refused, not sent again until the roster changes.
	RosterVersion uint64 `json:"roster_version,omitempty"`
	RosterFailed  uint64 `json:"roster_failed,omitempty"`

	// The disable: the command's ID while the clock's last transmission is
	// awaited, then when it ended and the last sequence number the clock
	// reported as acknowledged.
	DisableCmd    string    `json:"disable_cmd,omitempty"`
	DisableDoneAt time.Time `json:"disable_done_at,omitzero"`
	FinalSeq      uint64    `json:"final_seq,omitempty"`
	// DisableForced says the disable ended without the last transmission
	// (the administrator did not wait for a lost clock).
	DisableForced bool `json:"disable_forced,omitempty"`
}

// DeviceStatus is approved, disabling or disabled, persisted by name.
type DeviceStatus uint8

// The device statuses.
const (
	// DeviceApproved: on the company's approved list; its certificate works.
	DeviceApproved DeviceStatus = iota + 1
	// DeviceDisabled: disabled and done; its certificate is refused.
	DeviceDisabled
	// DeviceDisabling: an administrator disabled it and the cloud waits for
	// its one last transmission; it is listed with the disabled devices and
	// its certificate still works until the clock reports the end.
	DeviceDisabling
)

var deviceStatusNames = map[DeviceStatus]string{
	DeviceApproved:  "approved",
	DeviceDisabled:  "disabled",
	DeviceDisabling: "disabling",
}

// Disabled reports whether the device is on the disabled list (finished
// or still waiting for its last transmission).
func (s DeviceStatus) Disabled() bool { return s == DeviceDisabled || s == DeviceDisabling }

func (s DeviceStatus) String() string {
	if n, ok := deviceStatusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("DeviceStatus(%d)", uint8(s))
}

// MarshalText writes the status's name.
func (s DeviceStatus) MarshalText() ([]byte, error) {
	if _, ok := deviceStatusNames[s]; !ok {
		return nil, fmt.Errorf("device status %d has no name", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a status name.
func (s *DeviceStatus) UnmarshalText(b []byte) error {
	for k, n := range deviceStatusNames {
		if n == string(b) {
			*s = k
			return nil
		}
	}
	return fmt.Errorf("unknown device status %q", b)
}

// AdminToken is a bearer token of the admin API, kept only as its hash.
type AdminToken struct {
	Hash      string    `json:"hash"`
	CompanyID string    `json:"company_id"`
	UserEmail string    `json:"user_email"` // who acts with it (e.g. "disabled by")
	CreatedAt time.Time `json:"created_at"`
}

// TokenHash is how an admin token is keyed: hex SHA-256. Tokens are long
// random strings, so an unsalted hash is enough to keep them out of the
// store.
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
