package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"timeclock/clock"
	"timeclock/cloud/access"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/wire"
)

// Every admin API call checks the token's user against the call's
// permission; a call with no permission of its own is for administrators.
func TestAdminAPIChecksPermissions(t *testing.T) {
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	setRole := func(perms ...access.Permission) {
		db.Update(context.Background(), func(tx store.Tx) error {
			return tx.PutRole(store.Role{CompanyID: companyID, ID: "r", Name: "Clerks", Permissions: access.PermissionNames(perms)})
		})
	}
	db.Update(context.Background(), func(tx store.Tx) error {
		tx.PutCompany(store.Company{ID: companyID, Name: "Acme", Timezone: "UTC"})
		tx.PutUser(store.User{CompanyID: companyID, Email: "ada@acme.example", Administrator: true})
		tx.PutUser(store.User{CompanyID: companyID, Email: "pat@acme.example", RoleID: "r"})
		tx.PutAdminToken(store.AdminToken{Hash: store.TokenHash("ada-token"), CompanyID: companyID, UserEmail: "ada@acme.example"})
		tx.PutAdminToken(store.AdminToken{Hash: store.TokenHash("pat-token"), CompanyID: companyID, UserEmail: "pat@acme.example"})
		return tx.PutAdminToken(store.AdminToken{Hash: store.TokenHash("gone-token"), CompanyID: companyID, UserEmail: "gone@acme.example"})
	})
	setRole()
	clk := clock.NewFake(t0)
	srv := httptest.NewServer(NewAPI(Deps{Store: db, Clock: clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authorize: access.Checker{Store: db}}))
	defer srv.Close()
	call := func(method, path, token string) (int, *wire.Error) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		return decodeResp(t, resp, &out)
	}
	for _, tc := range []struct {
		name, method, path, token string
		perms                     []access.Permission
		want                      wire.ErrorCode // "" = allowed
		mention                   string
	}{
		{"administrator lists", "GET", "/api/v1/devices", "ada-token", nil, "", ""},
		{"no role lists", "GET", "/api/v1/devices", "pat-token", nil, wire.ErrForbidden, "Manage Mobile Devices: View"},
		{"View lists", "GET", "/api/v1/devices", "pat-token", []access.Permission{access.DevicesView}, "", ""},
		{"View cannot disable", "POST", "/api/v1/devices/d1/disable", "pat-token", []access.Permission{access.DevicesView}, wire.ErrForbidden, "Manage Mobile Devices: Disable"},
		{"Disable may disable", "POST", "/api/v1/devices/d1/disable", "pat-token", []access.Permission{access.DevicesDisable}, "not_allowed_past_auth", ""},
		{"punches are for administrators", "GET", "/api/v1/punches?device=d1", "pat-token", access.AllPermissions(), wire.ErrForbidden, "Administrator profile"},
		{"a token whose user is gone", "GET", "/api/v1/devices", "gone-token", nil, wire.ErrForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setRole(tc.perms...)
			st, we := call(tc.method, tc.path, tc.token)
			switch tc.want {
			case "":
				if we != nil {
					t.Fatalf("%d %v", st, we)
				}
			case "not_allowed_past_auth":
				// Past the permission check: whatever the call answers, it
				// is not a refusal of the caller.
				if we != nil && (we.Code == wire.ErrForbidden || we.Code == wire.ErrUnauthorized) {
					t.Fatalf("%d %v", st, we)
				}
			default:
				if we == nil || we.Code != tc.want || st != http.StatusForbidden || !strings.Contains(we.Message, tc.mention) {
					t.Fatalf("%d %+v, want 403 %s mentioning %q", st, we, tc.want, tc.mention)
				}
			}
		})
	}
}
