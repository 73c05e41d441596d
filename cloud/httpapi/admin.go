package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"
	"timeclock/cloud/releases"

	"timeclock/cloud/store"
	"timeclock/wire"
)

// DeviceList is the answer of GET /api/v1/devices: the two halves of the
// devices page.
type DeviceList struct {
	CompanyID string      `json:"company_id"`
	Approved  []DeviceRow `json:"approved"`
	Disabled  []DeviceRow `json:"disabled"`
}

// DeviceRow is one line of the devices page, with the page's columns and
// the check-in details behind them.
type DeviceRow struct {
	// Kind is "clock" or "phone" (a copy of the mobile app).
	Kind          string    `json:"kind"`
	Nickname      string    `json:"nickname"`
	LastUsedBy    string    `json:"last_used_by"`
	Type          string    `json:"type"`    // the clock's model
	Version       string    `json:"version"` // its firmware version at the last check-in
	ID            string    `json:"id"`
	LastCheckedIn time.Time `json:"last_checked_in,omitzero"`
	Serial        string    `json:"serial"`
	ActivatedAt   time.Time `json:"activated_at"`
	// Status is approved, disabling (waiting for the last transmission) or
	// disabled.
	Status    string `json:"status"`
	Online    bool   `json:"online"`
	Pending   int    `json:"pending"`              // punches waiting on the clock at its check-in
	OldestAge int64  `json:"oldest_pending_age_s"` // seconds
	NTPSynced bool   `json:"ntp_synced"`
	Interface string `json:"interface,omitempty"`
	Punches   uint64 `json:"punches"`  // stored from this clock
	HighSeq   uint64 `json:"high_seq"` // highest punch sequence number stored
	// RosterVersion is the roster version the clock confirmed (0: none yet).
	RosterVersion uint64 `json:"roster_version"`
	// ClockSource is how the clock knew its time at its last check-in
	// (ntp, cloud, rtc-unverified, unset; empty from older clocks);
	// ClockOffsetMS the cloud's time minus the clock's, in ms, when
	// measured; ClockWarning says the offset is over ClockWarnAbove.
	ClockSource   string `json:"clock_source,omitempty"`
	ClockOffsetMS *int64 `json:"clock_offset_ms,omitempty"`
	ClockWarning  bool   `json:"clock_warning,omitempty"`
	// Disabled devices only:
	DisabledDate time.Time `json:"disabled_date,omitzero"`
	DisabledBy   string    `json:"disabled_by,omitempty"`
	// EnabledBy: an administrator enabled the disabled clock again; it may
	// be onboarded again.
	EnabledBy string `json:"enabled_by,omitempty"`
	// LastTransmission: "waiting" (disabling), "received" (the clock sent
	// everything and reported it, FinalSeq being its last acknowledged
	// punch) or "skipped" (disabled without waiting).
	LastTransmission string `json:"last_transmission,omitempty"`
	// Update is the clock's over-the-air update, when it had one.
	Update        *releases.Device `json:"update,omitempty"`
	FinalSeq      uint64           `json:"final_seq,omitempty"`
	DisableDoneAt time.Time        `json:"disable_done_at,omitzero"`
}

// ClockWarnAbove is the clock offset the devices page warns about.
const ClockWarnAbove = 60 * time.Second

// Row is a device as the devices page shows it.
func Row(d store.Device) DeviceRow {
	row := DeviceRow{Kind: "clock", Nickname: d.Nickname, LastUsedBy: d.LastUsedBy, Type: d.Model, Version: d.Firmware,
		ID: d.ID, LastCheckedIn: d.LastCheckedIn, Serial: d.Serial, ActivatedAt: d.ActivatedAt,
		Status: d.Status.String(), Online: d.Online, Pending: d.Pending, OldestAge: d.OldestAge,
		NTPSynced: d.NTPSynced, Interface: d.Interface, Punches: d.Punches, HighSeq: d.HighSeq,
		RosterVersion: d.RosterVersion, ClockSource: d.ClockSource, ClockOffsetMS: d.ClockOffsetMS}
	if o := d.ClockOffsetMS; o != nil && (*o > ClockWarnAbove.Milliseconds() || *o < -ClockWarnAbove.Milliseconds()) {
		row.ClockWarning = true
	}
	if d.Status.Disabled() {
		row.DisabledDate, row.DisabledBy = d.DisabledAt, d.DisabledBy
		row.DisableDoneAt, row.FinalSeq, row.EnabledBy = d.DisableDoneAt, d.FinalSeq, d.EnabledBy
		switch {
		case d.Status == store.DeviceDisabling:
			row.LastTransmission = "waiting"
		case d.DisableForced:
			row.LastTransmission = "skipped"
		default:
			row.LastTransmission = "received"
		}
	}
	return row
}

// who is the authenticated caller of the admin API.
type who struct {
	CompanyID string
	Email     string
}

// admin checks the method and the bearer token before h runs.
func (a *api) admin(method string, h func(http.ResponseWriter, *http.Request, who)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			methodNotAllowed(w, method)
			return
		}
		src := "src " + source(r)
		if ok, wait := a.AuthFailures.Check(src); !ok {
			e := &wire.Error{Code: wire.ErrRateLimited, Message: "too many wrong admin tokens", RetryAfter: int(wait / time.Second)}
			writeAPIError(w, e)
			return
		}
		tok, ok := parseBearer(r.Header.Get("Authorization"))
		if !ok {
			writeAPIError(w, &wire.Error{Code: wire.ErrUnauthorized, Message: "want Authorization: Bearer <admin token>"})
			return
		}
		var t store.AdminToken
		err := a.Store.View(r.Context(), func(tx store.Tx) (err error) {
			t, err = tx.AdminToken(store.TokenHash(tok))
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			a.AuthFailures.Take(src)
			a.Log.Warn("admin API: wrong token", "source", source(r), "path", r.URL.Path)
			writeAPIError(w, &wire.Error{Code: wire.ErrUnauthorized, Message: "unknown admin token"})
			return
		}
		if err != nil {
			writeErr(w, r, a.Log, err)
			return
		}
		u := who{CompanyID: t.CompanyID, Email: t.UserEmail}
		if e := a.authorize(r, u); e != nil {
			writeAPIError(w, e)
			return
		}
		h(w, r, u)
	})
}

func (a *api) devices(w http.ResponseWriter, r *http.Request, u who) {
	list, err := a.listDevices(r.Context(), u.CompanyID)
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *api) listDevices(ctx context.Context, company string) (DeviceList, error) {
	list := DeviceList{CompanyID: company, Approved: []DeviceRow{}, Disabled: []DeviceRow{}}
	err := a.Store.View(ctx, func(tx store.Tx) error {
		ds, err := tx.Devices(company)
		for _, d := range ds {
			if d.Status.Disabled() {
				list.Disabled = append(list.Disabled, Row(d))
			} else {
				list.Approved = append(list.Approved, Row(d))
			}
		}
		if err != nil {
			return err
		}
		if a.Releases != nil {
			ups := a.Releases.Devices(company)
			for _, l := range [][]DeviceRow{list.Approved, list.Disabled} {
				for i := range l {
					if u, ok := ups[l[i].ID]; ok {
						l[i].Update = &u
					}
				}
			}
		}
		ms, err := tx.MobileInstalls(company)
		for _, m := range ms {
			if m.Status == store.DeviceDisabled {
				list.Disabled = append(list.Disabled, PhoneRow(m))
			} else {
				list.Approved = append(list.Approved, PhoneRow(m))
			}
		}
		return err
	})
	return list, err
}
