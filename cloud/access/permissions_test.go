package access

import (
	"reflect"
	"testing"

	"timeclock/cloud/store"
)

func TestFor(t *testing.T) {
	admin := store.User{CompanyID: "1", Email: "a@x", Administrator: true}
	clerk := store.User{CompanyID: "1", Email: "c@x", RoleID: "r1"}
	role := store.Role{CompanyID: "1", ID: "r1", Permissions: []string{"dashboard.access", "mobile_devices.view", "teleport.use"}}
	other := store.Role{CompanyID: "2", ID: "r1", Permissions: []string{"dashboard.access"}}
	for _, tc := range []struct {
		name string
		u    store.User
		r    *store.Role
		want map[Permission]bool
	}{
		{"administrator has everything", admin, nil, map[Permission]bool{
			DashboardAccess: true, DevicesView: true, DevicesAdd: true, DevicesEdit: true, DevicesDisable: true, RolesManage: true, UsersManage: true}},
		{"no role, nothing", store.User{CompanyID: "1"}, nil, map[Permission]bool{}},
		{"role grants what it lists; unknown names nothing", clerk, &role, map[Permission]bool{
			DashboardAccess: true, DevicesView: true}},
		{"another company's role grants nothing", clerk, &other, map[Permission]bool{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := PermissionsFor(tc.u, tc.r)
			for _, p := range AllPermissions() {
				if s.Has(p) != tc.want[p] {
					t.Errorf("Has(%s) = %v, want %v", p, s.Has(p), tc.want[p])
				}
			}
			if s.Has("teleport.use") {
				t.Error("an unknown permission is granted")
			}
		})
	}
}

func TestNamesAndLabels(t *testing.T) {
	got := PermissionNames([]Permission{RolesManage, DevicesAdd, DevicesAdd, "nonsense", DashboardAccess})
	if want := []string{"dashboard.access", "mobile_devices.add", "security_roles.manage"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	if l := DevicesAdd.Label(); l != "Manage Mobile Devices: Add" {
		t.Errorf("label %q", l)
	}
}
