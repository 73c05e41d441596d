// Package access is who may use the administrator's side of the cloud and
// what they may do there: the logins (bcrypt password hashes, server-side
// sessions keyed by the hash of a random 256-bit cookie, a CSRF token per
// session, idle and absolute expiry, rate limits on wrong passwords) and the
// permission model (the Administrator profile has every permission;
// everyone else has what their company's security role grants, and nothing
// without one; permissions are persisted by name in store.Role). It knows
// nothing of HTTP; package web sets the cookies and checks the pages,
// Checker answers for the admin API.
package access

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
	// DevicesEdit renames a clock (the clock gets a rename command).
	DevicesEdit Permission = "mobile_devices.edit"
	// DevicesDisable disables a clock or a copy of the mobile app.
	DevicesDisable Permission = "mobile_devices.disable"
	// RolesManage creates roles, grants permissions and assigns users.
	RolesManage Permission = "security_roles.manage"
	// UsersManage adds and removes the company's users and resets their
	// passwords.
	UsersManage Permission = "users.manage"
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
	{Name: "Manage Mobile Devices", Actions: []Action{{"View", DevicesView}, {"Add", DevicesAdd}, {"Edit", DevicesEdit}, {"Disable", DevicesDisable}}},
	{Name: "Security Roles", Actions: []Action{{"Manage", RolesManage}}},
	{Name: "Users", Actions: []Action{{"Manage", UsersManage}}},
}

// AllPermissions is every permission there is.
func AllPermissions() []Permission {
	var out []Permission
	for _, a := range Areas {
		for _, ac := range a.Actions {
			out = append(out, ac.Permission)
		}
	}
	return out
}

// KnownPermission reports whether p is a permission of this build.
func KnownPermission(p Permission) bool { return slices.Contains(AllPermissions(), p) }

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

// Permissions is what one user may do.
type Permissions struct {
	admin bool
	perms map[Permission]bool
}

// Has reports whether the set allows p.
func (s Permissions) Has(p Permission) bool { return (s.admin && KnownPermission(p)) || s.perms[p] }

// Administrator reports whether the set is the Administrator profile's.
func (s Permissions) Administrator() bool { return s.admin }

// Any reports whether the set allows anything at all.
func (s Permissions) Any() bool { return s.admin || len(s.perms) > 0 }

// PermissionsFor is what u may do given their role (nil: none). A role of another
// company grants nothing. Unknown permission names (from a newer build)
// grant nothing either.
func PermissionsFor(u store.User, r *store.Role) Permissions {
	if u.Administrator {
		return Permissions{admin: true}
	}
	s := Permissions{perms: map[Permission]bool{}}
	if r == nil || r.CompanyID != u.CompanyID || r.ID != u.RoleID {
		return s
	}
	for _, n := range r.Permissions {
		if p := Permission(n); KnownPermission(p) {
			s.perms[p] = true
		}
	}
	return s
}

// LoadPermissions reads u's role from the store and returns what u may do. A role
// that has gone is no role.
func LoadPermissions(tx store.Tx, u store.User) (Permissions, error) {
	if u.Administrator || u.RoleID == "" {
		return PermissionsFor(u, nil), nil
	}
	r, err := tx.Role(u.CompanyID, u.RoleID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return PermissionsFor(u, nil), nil
		}
		return Permissions{}, fmt.Errorf("roles: %w", err)
	}
	return PermissionsFor(u, &r), nil
}

// PermissionNames is the persisted form of a list of permissions: known ones only,
// in the grid's order, without repeats.
func PermissionNames(ps []Permission) []string {
	out := []string{}
	for _, p := range AllPermissions() {
		if slices.Contains(ps, p) {
			out = append(out, string(p))
		}
	}
	return out
}
