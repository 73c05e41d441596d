// Package store is the cloud's durable data behind a small interface: the
// embedded bbolt store (boltstore) is the default, and a PostgreSQL store can
// follow by passing the shared behaviour suite in storetest.
//
// Work happens in transactions: View for reads, Update for a read-modify-
// write that either commits whole or not at all. An Update function may be
// run again by stores that retry on conflict, so it must have no side
// effects outside the Tx.
package store

import (
	"context"
	"errors"
	"time"

	"timeclock/wire"
)

// ErrNotFound is returned by lookups of a record that does not exist.
var ErrNotFound = errors.New("not found")

// Store opens transactions.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committed (and synced to
	// disk) only when fn returns nil.
	Update(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx reads and writes records inside one transaction. Puts replace the
// whole record. Writes inside a View fail.
type Tx interface {
	Company(id string) (Company, error)
	PutCompany(Company) error

	// Users lists a company's users, ordered by email.
	Users(companyID string) ([]User, error)
	PutUser(User) error
	// DeleteUser removes a user; removing one that is gone is not an error.
	DeleteUser(companyID, email string) error

	Session(id string) (Session, error)
	// SessionFor returns the newest session of a clock (by serial) with a
	// company: there is at most one live code per clock.
	SessionFor(companyID, serial string) (Session, error)
	PutSession(Session) error
	// DeleteSessionsExpiredBefore removes sessions whose code expired
	// before t and returns how many.
	DeleteSessionsExpiredBefore(t Time) (int, error)

	Device(id string) (Device, error)
	DeviceBySerial(companyID, serial string) (Device, error)
	// Devices lists a company's devices, ordered by ID.
	Devices(companyID string) ([]Device, error)
	// AllDevices lists every company's devices, ordered by ID.
	AllDevices() ([]Device, error)
	PutDevice(Device) error

	// PutPunch stores a punch under its device and ID unless one is already
	// there; added says whether it was new.
	PutPunch(Punch) (added bool, err error)
	// CorrectPunch applies a clock's correction to the stored punch of that
	// device and ID (Punch.Correct); stored says whether the punch is there
	// (and so now carries its corrected time).
	CorrectPunch(deviceID string, c wire.Punch, at time.Time) (stored bool, err error)
	// Punches lists a device's punches in ID order, those after the ID
	// after ("" from the first), at most limit.
	Punches(deviceID, after string, limit int) ([]Punch, error)

	// Commands lists a device's unanswered commands, ordered by ID.
	Commands(deviceID string) ([]Command, error)
	PutCommand(Command) error
	// DeleteCommand removes a command; removing one that is gone is not
	// an error.
	DeleteCommand(deviceID, id string) error

	// Roster is a company's roster header.
	Roster(companyID string) (Roster, error)
	PutRoster(Roster) error
	// RosterEmployees lists a company's roster employees ordered by ID,
	// the removed ones (tombstones) included.
	RosterEmployees(companyID string) ([]RosterEmployee, error)
	PutRosterEmployee(RosterEmployee) error

	// PutBiometric stores a clock's consent or deletion record under its
	// company, device and sequence number unless it is already there;
	// added says whether it was new.
	PutBiometric(BiometricRecord) (added bool, err error)
	// Biometrics lists a company's consent and deletion records, by
	// device and sequence number.
	Biometrics(companyID string) ([]BiometricRecord, error)

	// AdminToken looks up an admin API token by its hash (TokenHash).
	AdminToken(hash string) (AdminToken, error)
	PutAdminToken(AdminToken) error

	AdminTx
}
