package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"timeclock/cloud/registry"
	"timeclock/cloud/store"
	"timeclock/wire"
)

// Devices is the device registry the admin API calls (cloud/registry).
// Without one, disable, rename, commands and roster pushes answer
// not_implemented.
type Devices interface {
	Disable(ctx context.Context, companyID, deviceID, by string, now bool) (store.Device, error)
	Rename(ctx context.Context, companyID, deviceID, nickname, by string) (store.Device, error)
	Enable(ctx context.Context, companyID, deviceID, by string) (store.Device, error)
	SendCommand(ctx context.Context, companyID, deviceID string, typ wire.CommandType, timezone, by string) (store.Command, error)
	RosterChanged(ctx context.Context, companyID, by string) (int, error)
}

var (
	_ Devices          = (*registry.Registry)(nil)
	_ BiometricDeleter = (*registry.Registry)(nil)
)

func noRegistry(w http.ResponseWriter) {
	writeAPIError(w, &wire.Error{Code: wire.ErrNotImplemented, Message: "this cloud runs without the device registry (MQTT)"})
}

// registryErr answers an error of the registry.
func registryErr(w http.ResponseWriter, r *http.Request, a *api, err error) {
	var ie *registry.InputError
	switch {
	case errors.Is(err, registry.ErrUnknownDevice):
		writeAPIError(w, &wire.Error{Code: wire.ErrNotFound, Message: "no device " + r.PathValue("id") + " in this company"})
	case errors.Is(err, registry.ErrNotDisabled):
		writeAPIError(w, badRequest("device %s: only a disabled clock whose last transmission came in can be enabled again", r.PathValue("id")))
	case errors.As(err, &ie):
		writeAPIError(w, badRequest("%s", ie.Msg))
	default:
		writeErr(w, r, a.Log, err)
	}
}

// device answers GET /api/v1/devices/{id}.
func (a *api) device(w http.ResponseWriter, r *http.Request, u who) {
	var d store.Device
	err := a.Store.View(r.Context(), func(tx store.Tx) (err error) {
		d, err = tx.Device(r.PathValue("id"))
		if err == nil && d.CompanyID != u.CompanyID {
			err = store.ErrNotFound
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		registryErr(w, r, a, registry.ErrUnknownDevice)
		return
	}
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, Row(d))
}

// disable answers POST /api/v1/devices/{id}/disable: the device moves to
// the disabled list at once (status disabling until its last transmission
// is in, unless {"now":true}).
func (a *api) disable(w http.ResponseWriter, r *http.Request, u who) {
	if a.disablePhone(w, r, u) {
		return
	}
	if a.Devices == nil {
		noRegistry(w)
		return
	}
	req, e := decodeDisableRequest(r.Body, r.ContentLength)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	d, err := a.Devices.Disable(r.Context(), u.CompanyID, r.PathValue("id"), u.Email, req.Now)
	if err != nil {
		registryErr(w, r, a, err)
		return
	}
	writeJSON(w, http.StatusOK, Row(d))
}

func (a *api) rename(w http.ResponseWriter, r *http.Request, u who) {
	if a.Devices == nil {
		noRegistry(w)
		return
	}
	req, e := decodeRenameRequest(r.Body)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	d, err := a.Devices.Rename(r.Context(), u.CompanyID, r.PathValue("id"), req.Nickname, u.Email)
	if err != nil {
		registryErr(w, r, a, err)
		return
	}
	writeJSON(w, http.StatusOK, Row(d))
}

// enable answers POST /api/v1/devices/{id}/enable: the disabled clock may
// be onboarded again.
func (a *api) enable(w http.ResponseWriter, r *http.Request, u who) {
	if a.Devices == nil {
		noRegistry(w)
		return
	}
	d, err := a.Devices.Enable(r.Context(), u.CompanyID, r.PathValue("id"), u.Email)
	if err != nil {
		registryErr(w, r, a, err)
		return
	}
	writeJSON(w, http.StatusOK, Row(d))
}

// CommandAccepted answers POST /api/v1/devices/{id}/commands.
type CommandAccepted struct {
	ID   string           `json:"id"`
	Type wire.CommandType `json:"type"`
}

func (a *api) command(w http.ResponseWriter, r *http.Request, u who) {
	if a.Devices == nil {
		noRegistry(w)
		return
	}
	req, e := decodeCommandRequest(r.Body)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	c, err := a.Devices.SendCommand(r.Context(), u.CompanyID, r.PathValue("id"), req.Type, req.Timezone, u.Email)
	if err != nil {
		registryErr(w, r, a, err)
		return
	}
	writeJSON(w, http.StatusAccepted, CommandAccepted{ID: c.Cmd.ID, Type: c.Cmd.Type})
}

// PunchList answers GET /api/v1/punches?device={id}[&after=ID][&limit=N].
type PunchList struct {
	DeviceID string        `json:"device_id"`
	Punches  []store.Punch `json:"punches"`
	// Next is the after= of the next page; empty on the last page.
	Next string `json:"next,omitempty"`
}

const (
	defaultPunchPage = 1000
	maxPunchPage     = 10000
)

func (a *api) punches(w http.ResponseWriter, r *http.Request, u who) {
	q := r.URL.Query()
	id, after := q.Get("device"), q.Get("after")
	limit := defaultPunchPage
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPunchPage {
			writeAPIError(w, badRequest("limit: want 1 to %d", maxPunchPage))
			return
		}
		limit = n
	}
	if id == "" || len(id) > 64 || !token(id, "-_") {
		writeAPIError(w, badRequest("device: missing or malformed; GET /api/v1/punches?device=ID"))
		return
	}
	if len(after) > 128 || !printable(after) {
		writeAPIError(w, badRequest("after: malformed"))
		return
	}
	list := PunchList{DeviceID: id, Punches: []store.Punch{}}
	err := a.Store.View(r.Context(), func(tx store.Tx) error {
		d, err := tx.Device(id)
		if err != nil {
			return err
		}
		if d.CompanyID != u.CompanyID {
			return store.ErrNotFound
		}
		ps, err := tx.Punches(id, after, limit+1)
		if err != nil {
			return err
		}
		if len(ps) > limit {
			ps = ps[:limit]
			list.Next = ps[limit-1].ID
		}
		list.Punches = append(list.Punches, ps...)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		writeAPIError(w, &wire.Error{Code: wire.ErrNotFound, Message: "no device " + id + " in this company"})
		return
	}
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}
