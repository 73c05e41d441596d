package web

// The fleet is a company's devices as the Mobile Devices page shows them:
// the clocks and the copies of the mobile app together, approved and
// disabled apart, and disabling either kind by ID.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"timeclock/cloud/store"
)

// DeviceKind says whether a row is a clock or a copy of the mobile app.
type DeviceKind uint8

// The kinds of device.
const (
	KindClock DeviceKind = iota + 1
	KindPhone
)

func (k DeviceKind) String() string {
	switch k {
	case KindClock:
		return "clock"
	case KindPhone:
		return "phone"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// DeviceRow is one line of the Mobile Devices page, with its columns.
type DeviceRow struct {
	Kind       DeviceKind
	Nickname   string
	LastUsedBy string
	// Type is the clock's model, or "iPhone (iOS)" / "Android".
	Type string
	// Version is the clock's firmware or the app's version at its last
	// check-in.
	Version       string
	ID            string
	LastCheckedIn time.Time // zero: never
	DisabledDate  time.Time
	DisabledBy    string
	// Waiting says the device is disabled but its one last transmission
	// has not come in yet (a clock that has not been online since).
	Waiting bool
	// ClockSource and ClockOffsetMS are how a clock knew its time and its
	// offset to the cloud's at its last check-in (empty, nil: not said);
	// ClockWarning says the offset is over a minute.
	ClockSource   string
	ClockOffsetMS *int64
	ClockWarning  bool
	// Storage is the clock's storage damage notice from its last
	// check-in (empty: sound).
	Storage string
	// From a clock's last check-in (phones have none): whether it is
	// connected, the punches waiting on it and how old the oldest is.
	Online        bool
	Pending       int
	OldestPending time.Duration
	// Update is the clock's over-the-air update in words ("2.0:
	// committed", "3.0: rolled back (reason)"); empty: none.
	Update string
	// EnabledBy is who enabled a disabled clock again (it may be
	// onboarded again); empty while it stays disabled.
	EnabledBy string
}

// Connection is the Status column: Online or Offline for a clock, "—"
// for a phone (it has no standing connection).
func (r DeviceRow) Connection() string {
	switch {
	case r.Kind != KindClock:
		return "—"
	case r.Online:
		return "Online"
	}
	return "Offline"
}

// PendingText is the Pending column: the punches waiting on the clock.
func (r DeviceRow) PendingText() string {
	if r.Kind != KindClock {
		return "—"
	}
	return strconv.Itoa(r.Pending)
}

// OldestText is the Oldest Pending column: the age of the oldest punch
// waiting on the clock, in the largest whole unit ("—" with none).
func (r DeviceRow) OldestText() string {
	d := r.OldestPending
	switch {
	case r.Kind != KindClock || r.Pending == 0:
		return "—"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days"
}

// ClockOff is the clock's offset for the page, in seconds ("1m30s").
func (r DeviceRow) ClockOff() string {
	if r.ClockOffsetMS == nil {
		return ""
	}
	return (time.Duration(*r.ClockOffsetMS) * time.Millisecond).Round(time.Second).String()
}

// clockWarnAboveMS is the offset the page warns about (as the admin API).
const clockWarnAboveMS = 60_000

// DeviceList is the two halves of the page.
type DeviceList struct {
	Approved, Disabled []DeviceRow
}

// Disabler disables a device and records who did it. The sync service
// disables clocks (a retained command, one last transmission, then the
// certificate is refused); package mobile disables copies of the app.
type Disabler interface {
	Disable(ctx context.Context, companyID, deviceID, by string) error
}

// Renamer renames a clock: its nickname on these pages at once, and a
// rename command to the clock (the sync registry).
type Renamer interface {
	Rename(ctx context.Context, companyID, deviceID, nickname, by string) error
}

// Enabler enables a disabled clock again, so it may be onboarded again
// (the sync registry).
type Enabler interface {
	Enable(ctx context.Context, companyID, deviceID, by string) error
}

// ErrNoDevice is returned for an ID that is none of the company's devices.
var ErrNoDevice = errors.New("no such device")

// Fleet reads the store and routes disables by kind.
type Fleet struct {
	Store  store.Store
	Clocks Disabler
	Phones Disabler
	// Renamer renames clocks; nil: the pages offer no Rename.
	Renamer Renamer
	// Enabler enables disabled clocks again; nil: no Enable.
	Enabler Enabler
	// Biometrics deletes employees' fingerprint templates on every clock;
	// nil: the Biometrics page offers no deletion.
	Biometrics BiometricDeleter
}

// BiometricDeleter sends every clock of the company the deletion of an
// employee's fingerprint templates (cloud/registry).
type BiometricDeleter interface {
	DeleteBiometrics(ctx context.Context, companyID, employee, by string) (int, error)
}

// Enable enables one of the company's disabled clocks again.
func (f *Fleet) Enable(ctx context.Context, companyID, id, by string) error {
	row, _, err := f.Find(ctx, companyID, id)
	if err != nil {
		return err
	}
	if row.Kind != KindClock || f.Enabler == nil {
		return ErrNoDevice
	}
	return f.Enabler.Enable(ctx, companyID, id, by)
}

// Rename gives one of the company's clocks a new nickname (1 to 64
// characters, as the admin API takes).
func (f *Fleet) Rename(ctx context.Context, companyID, id, nickname, by string) error {
	row, _, err := f.Find(ctx, companyID, id)
	if err != nil {
		return err
	}
	if row.Kind != KindClock || f.Renamer == nil {
		return ErrNoDevice
	}
	return f.Renamer.Rename(ctx, companyID, id, nickname, by)
}

// List returns the company's devices: approved by nickname, disabled most
// recent first.
func (f *Fleet) List(ctx context.Context, companyID string) (DeviceList, error) {
	var list DeviceList
	err := f.Store.View(ctx, func(tx store.Tx) error {
		ds, err := tx.Devices(companyID)
		if err != nil {
			return err
		}
		ms, err := tx.MobileInstalls(companyID)
		if err != nil {
			return err
		}
		for _, d := range ds {
			r := DeviceRow{Kind: KindClock, Nickname: d.Nickname, LastUsedBy: d.LastUsedBy, Type: d.Model,
				Version: d.Firmware, ID: d.ID, LastCheckedIn: d.LastCheckedIn, DisabledDate: d.DisabledAt, DisabledBy: d.DisabledBy,
				Waiting: d.Status == store.DeviceDisabling, ClockSource: d.ClockSource, ClockOffsetMS: d.ClockOffsetMS, Storage: d.Storage,
				Online: d.Online, Pending: d.Pending, OldestPending: time.Duration(d.OldestAge) * time.Second,
				EnabledBy: d.EnabledBy}
			if o := d.ClockOffsetMS; o != nil && (*o > clockWarnAboveMS || *o < -clockWarnAboveMS) {
				r.ClockWarning = true
			}
			list.add(d.Status, r)
		}
		for _, m := range ms {
			list.add(m.Status, DeviceRow{Kind: KindPhone, Nickname: m.Nickname, LastUsedBy: m.LastUsedBy, Type: m.Platform.Label(),
				Version: m.AppVersion, ID: m.ID, LastCheckedIn: m.LastCheckedIn, DisabledDate: m.DisabledAt, DisabledBy: m.DisabledBy,
				Waiting: m.Status == store.DeviceDisabled && !m.FinalSent})
		}
		return nil
	})
	if err != nil {
		return DeviceList{}, fmt.Errorf("fleet: %w", err)
	}
	slices.SortFunc(list.Approved, func(a, b DeviceRow) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Nickname), strings.ToLower(b.Nickname)), cmp.Compare(a.ID, b.ID))
	})
	slices.SortFunc(list.Disabled, func(a, b DeviceRow) int {
		return cmp.Or(b.DisabledDate.Compare(a.DisabledDate), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// add files a row by status: anything not approved (disabled, or on its
// way there) is listed with the disabled devices.
func (l *DeviceList) add(s store.DeviceStatus, r DeviceRow) {
	if s != store.DeviceApproved {
		l.Disabled = append(l.Disabled, r)
	} else {
		r.DisabledDate, r.DisabledBy = time.Time{}, ""
		l.Approved = append(l.Approved, r)
	}
}

// Find returns one of the company's devices by ID, and whether it is
// disabled.
func (f *Fleet) Find(ctx context.Context, companyID, id string) (DeviceRow, bool, error) {
	list, err := f.List(ctx, companyID)
	if err != nil {
		return DeviceRow{}, false, err
	}
	for _, r := range list.Approved {
		if r.ID == id {
			return r, false, nil
		}
	}
	for _, r := range list.Disabled {
		if r.ID == id {
			return r, true, nil
		}
	}
	return DeviceRow{}, false, ErrNoDevice
}

// Disable disables the company's device id, whichever kind it is.
func (f *Fleet) Disable(ctx context.Context, companyID, id, by string) error {
	var kind DeviceKind
	err := f.Store.View(ctx, func(tx store.Tx) error {
		if d, err := tx.Device(id); err == nil && d.CompanyID == companyID {
			kind = KindClock
			return nil
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if m, err := tx.MobileInstall(id); err == nil && m.CompanyID == companyID {
			kind = KindPhone
			return nil
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return ErrNoDevice
	})
	if err != nil {
		return err
	}
	d := f.Phones
	if kind == KindClock {
		d = f.Clocks
	}
	if d == nil {
		return fmt.Errorf("fleet: disabling a %s is not in this build", kind)
	}
	return d.Disable(ctx, companyID, id, by)
}
