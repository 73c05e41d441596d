// Package roles is the permission model of the administrator's pages: the
// Administrator profile has every permission; everyone else has what their
// company's security role grants, and nothing without one. Permissions are
// persisted by name in store.Role.
package roles

import (
	"errors"
	"fmt"
	"slices"

	"timeclock/cloud/store"
)

// Permission is one thing a role may allow, persisted by its name.
type Permission string

// The permissions, by area as the Security Roles page shows them.
const (
	// DashboardAccess opens the Dashboard.
	DashboardAccess Permission = "dashboard.access"
	// DevicesView opens the Mobile Devices page (approved and disabled
	// clocks and phones).
	DevicesView Permission = "mobile_devices.view"
	// DevicesAdd shows the company setup code (Dashboard and Mobile
	// Devices) and sends it by SMS ("Add a Mobile Device").
	DevicesAdd Permission = "mobile_devices.add"
	// DevicesDisable disables a clock or a copy of the mobile app.
	DevicesDisable Permission = "mobile_devices.disable"
	// RolesManage creates roles, grants permissions and assigns users.
	RolesManage Permission = "security_roles.manage"
)

// Action is one checkbox of the permission grid.
type Action struct {
	Label      string // "View"
	Permission Permission
}

// Area is one row of the permission grid.
type Area struct {
	Name    string // "Manage Mobile Devices"
	Actions []Action
}

// Areas is every permission, grouped and worded as the pages show them.
var Areas = []Area{
	{Name: "Dashboard", Actions: []Action{{"Access", DashboardAccess}}},
	{Name: "Manage Mobile Devices", Actions: []Action{{"View", DevicesView}, {"Add", DevicesAdd}, {"Disable", DevicesDisable}}},
	{Name: "Security Roles", Actions: []Action{{"Manage", RolesManage}}},
}

// All is every permission there is.
func All() []Permission {
	var out []Permission
	for _, a := range Areas {
		for _, ac := range a.Actions {
			out = append(out, ac.Permission)
		}
	}
	return out
}

// Known reports whether p is a permission of this build.
func Known(p Permission) bool { return slices.Contains(All(), p) }

// Label is "Manage Mobile Devices: Add".
func (p Permission) Label() string {
	for _, a := range Areas {
		for _, ac := range a.Actions {
			if ac.Permission == p {
				return a.Name + ": " + ac.Label
			}
		}
	}
	return string(p)
}

// Set is what one user may do.
type Set struct {
	admin bool
	perms map[Permission]bool
}

// Has reports whether the set allows p.
func (s Set) Has(p Permission) bool { return (s.admin && Known(p)) || s.perms[p] }

// Administrator reports whether the set is the Administrator profile's.
func (s Set) Administrator() bool { return s.admin }

// Any reports whether the set allows anything at all.
func (s Set) Any() bool { return s.admin || len(s.perms) > 0 }

// For is what u may do given their role (nil: none). A role of another
// company grants nothing. Unknown permission names (from a newer build)
// grant nothing either.
func For(u store.User, r *store.Role) Set {
	if u.Administrator {
		return Set{admin: true}
	}
	s := Set{perms: map[Permission]bool{}}
	if r == nil || r.CompanyID != u.CompanyID || r.ID != u.RoleID {
		return s
	}
	for _, n := range r.Permissions {
		if p := Permission(n); Known(p) {
			s.perms[p] = true
		}
	}
	return s
}

// Load reads u's role from the store and returns what u may do. A role
// that has gone is no role.
func Load(tx store.Tx, u store.User) (Set, error) {
	if u.Administrator || u.RoleID == "" {
		return For(u, nil), nil
	}
	r, err := tx.Role(u.CompanyID, u.RoleID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return For(u, nil), nil
		}
		return Set{}, fmt.Errorf("roles: %w", err)
	}
	return For(u, &r), nil
}

// Names is the persisted form of a list of permissions: known ones only,
// in the grid's order, without repeats.
func Names(ps []Permission) []string {
	out := []string{}
	for _, p := range All() {
		if slices.Contains(ps, p) {
			out = append(out, string(p))
		}
	}
	return out
}
