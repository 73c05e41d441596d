package httpapi

import (
	"errors"
	"io"
	"net/http"

	"timeclock/cloud/roster"
	"timeclock/wire"
)

// RosterUpdated answers PUT and PATCH /api/v1/roster.
type RosterUpdated struct {
	roster.Result
	// PushedTo is how many of the company's approved clocks were sent the
	// new roster (0 when nothing changed).
	PushedTo int `json:"pushed_to"`
}

// rosterHandler serves GET (view), PUT (replace) and PATCH (change) of the
// company's roster.
func (a *api) rosterHandler() http.Handler {
	get := a.admin(http.MethodGet, a.getRoster)
	put := a.admin(http.MethodPut, a.updateRoster(decodeRosterPut))
	patch := a.admin(http.MethodPatch, a.updateRoster(decodeRosterPatch))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			get.ServeHTTP(w, r)
		case http.MethodPut:
			put.ServeHTTP(w, r)
		case http.MethodPatch:
			patch.ServeHTTP(w, r)
		default:
			methodNotAllowed(w, "GET, PUT, PATCH")
		}
	})
}

func (a *api) getRoster(w http.ResponseWriter, r *http.Request, u who) {
	v, err := roster.Get(r.Context(), a.Store, u.CompanyID)
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *api) updateRoster(decode func(io.Reader) (roster.Change, *wire.Error)) func(http.ResponseWriter, *http.Request, who) {
	return func(w http.ResponseWriter, r *http.Request, u who) {
		ch, e := decode(r.Body)
		if e != nil {
			writeAPIError(w, e)
			return
		}
		res, err := roster.Update(r.Context(), a.Store, u.CompanyID, ch, u.Email, a.Clock.Now())
		var re *roster.Error
		if errors.As(err, &re) {
			writeAPIError(w, badRequest("%s", re.Error()))
			return
		}
		if err != nil {
			writeErr(w, r, a.Log, err)
			return
		}
		out := RosterUpdated{Result: res}
		if res.Changed+res.Removed > 0 {
			a.Log.Info("roster changed", "company", u.CompanyID, "version", res.Version, "changed", res.Changed, "removed", res.Removed, "by", u.Email)
			if a.Devices != nil {
				if out.PushedTo, err = a.Devices.RosterChanged(r.Context(), u.CompanyID, u.Email); err != nil {
					// Stored; the clocks catch up at their next check-in.
					a.Log.Error("roster push", "company", u.CompanyID, "err", err)
				}
			}
		}
		writeJSON(w, http.StatusOK, out)
	}
}
