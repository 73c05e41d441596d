package httpapi

import (
	"errors"
	"net/http"

	"timeclock/cloud/store"
)

// PhoneRow is a copy of the mobile app as the devices page shows it, beside
// the clocks: Type is "iPhone (iOS)" or "Android", Version the app's,
// Serial the app's own install ID.
func PhoneRow(m store.MobileInstall) DeviceRow {
	row := DeviceRow{Kind: "phone", Nickname: m.Nickname, LastUsedBy: m.LastUsedBy, Type: m.Platform.Label(),
		Version: m.AppVersion, ID: m.ID, LastCheckedIn: m.LastCheckedIn, Serial: m.InstallID,
		ActivatedAt: m.EnrolledAt, Status: m.Status.String()}
	if m.Status == store.DeviceDisabled {
		row.DisabledDate, row.DisabledBy = m.DisabledAt, m.DisabledBy
		row.LastTransmission = "waiting"
		if m.FinalSent {
			row.LastTransmission = "received"
		}
	}
	return row
}

// phoneOf finds the company's copy of the app with this ID; found is false
// when the ID is not one (a clock's, or none).
func (a *api) phoneOf(r *http.Request, u who, id string) (m store.MobileInstall, found bool, err error) {
	err = a.Store.View(r.Context(), func(tx store.Tx) (err error) {
		m, err = tx.MobileInstall(id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.CompanyID != u.CompanyID) {
		return m, false, nil
	}
	return m, err == nil, err
}

// disablePhone serves POST /api/v1/devices/{id}/disable for a copy of the
// app and reports whether the ID was one. A phone has no "now": its next
// check-in is its last transmission either way.
func (a *api) disablePhone(w http.ResponseWriter, r *http.Request, u who) bool {
	if a.Mobile == nil {
		return false
	}
	id := r.PathValue("id")
	_, found, err := a.phoneOf(r, u, id)
	if err != nil {
		writeErr(w, r, a.Log, err)
		return true
	}
	if !found {
		return false
	}
	if _, e := decodeDisableRequest(r.Body, r.ContentLength); e != nil {
		writeAPIError(w, e)
		return true
	}
	if err := a.Mobile.Disable(r.Context(), u.CompanyID, id, u.Email); err != nil {
		writeErr(w, r, a.Log, err)
		return true
	}
	m, _, err := a.phoneOf(r, u, id)
	if err != nil {
		writeErr(w, r, a.Log, err)
		return true
	}
	writeJSON(w, http.StatusOK, PhoneRow(m))
	return true
}
