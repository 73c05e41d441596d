package httpapi

import (
	"context"
	"net/http"

	"timeclock/cloud/access"
	"timeclock/wire"
)

// Authorizer says whether a user may use a permission; the empty
// permission means the Administrator profile only. access.Checker is one.
type Authorizer interface {
	Allowed(ctx context.Context, companyID, email string, p access.Permission) (bool, error)
}

// adminPerms is the permission each admin API route needs, by its mux
// pattern. A route not listed is for administrators only, so a new route
// is never open by mistake.
var adminPerms = map[string]access.Permission{
	"/api/v1/devices":              access.DevicesView,
	"/api/v1/devices/{id}":         access.DevicesView,
	"/api/v1/devices/{id}/disable": access.DevicesDisable,
	"/api/v1/devices/{id}/rename":  access.DevicesEdit,
	"/api/v1/devices/{id}/enable":  access.DevicesDisable,
}

// authorize checks the admin token's user against the route's permission.
func (a *api) authorize(r *http.Request, u who) *wire.Error {
	if a.Authorize == nil {
		return nil
	}
	p := adminPerms[r.Pattern]
	ok, err := a.Authorize.Allowed(r.Context(), u.CompanyID, u.Email, p)
	if err != nil {
		a.Log.Error("admin API: checking permission", "path", r.URL.Path, "err", err)
		return &wire.Error{Code: wire.ErrInternal, Message: "internal error; try again later"}
	}
	if !ok {
		need := "the Administrator profile"
		if p != "" {
			need = "the " + p.Label() + " permission"
		}
		return &wire.Error{Code: wire.ErrForbidden, Message: "this needs " + need}
	}
	return nil
}
