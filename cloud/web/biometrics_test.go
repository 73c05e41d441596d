package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"timeclock/cloud/access"
	"timeclock/cloud/store"
	"timeclock/wire"
)

// seedBiometrics stores the clock's reports: E101 consented, E102
// consented and was deleted from the roster.
func seedBiometrics(t *testing.T, e *env) {
	t.Helper()
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	err := e.db.Update(context.Background(), func(tx store.Tx) error {
		for _, r := range []wire.BiometricReport{
			{Seq: 1, Kind: wire.BiometricConsent, Employee: "E101", Supervisor: "E100", At: at},
			{Seq: 2, Kind: wire.BiometricConsent, Employee: "E102", Supervisor: "E100", At: at},
			{Seq: 3, Kind: wire.BiometricDeleted, Employee: "E102", At: at.Add(time.Hour), Reason: "removed from the roster"},
		} {
			if _, err := tx.PutBiometric(store.BiometricRecord{CompanyID: company, DeviceID: clockID, BiometricReport: r}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The Biometrics page: per employee, the clocks with the consent and the
// deletion; administrators only; "Delete biometric data" goes to every
// clock through the registry.
func TestBiometricsPage(t *testing.T) {
	e := newEnv(t)
	seedBiometrics(t, e)

	sam := e.newUser().login(nobody)
	e.setRole(access.AllPermissions()...)
	if p := sam.get("/admin/biometrics"); p.status != http.StatusForbidden || !strings.Contains(p.body, "administrators only") {
		t.Errorf("a non-administrator with every permission: %d\n%s", p.status, p.body)
	}
	if p := sam.do("POST", "/admin/biometrics/delete", url.Values{"csrf": {csrfOf(t, sam.get("/admin/nowhere"))}, "employee": {"E101"}}); p.status != http.StatusForbidden {
		t.Errorf("a non-administrator deleting: %d", p.status)
	}

	dana := e.newUser().login(admin)
	p := dana.get("/admin/biometrics")
	if p.status != http.StatusOK {
		t.Fatalf("administrator: %d\n%s", p.status, p.body)
	}
	for _, want := range []string{"(E101)", "(E102)", "by supervisor E100", "removed from the roster", "Delete biometric data", `href="/admin/biometrics"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	p = dana.do("POST", "/admin/biometrics/delete", url.Values{"csrf": {csrfOf(t, p)}, "employee": {"E101"}})
	if p.status != http.StatusSeeOther || p.loc != "/admin/biometrics?deleted=E101" {
		t.Fatalf("delete: %d -> %q", p.status, p.loc)
	}
	e.clocks.mu.Lock()
	calls := slices.Clone(e.clocks.calls)
	e.clocks.mu.Unlock()
	if !slices.Contains(calls, "delete biometrics E101 by "+admin) {
		t.Errorf("registry calls %v", calls)
	}
	if p := dana.get("/admin/biometrics?deleted=E101"); !strings.Contains(p.body, "was sent to every clock") {
		t.Errorf("no notice after the deletion:\n%s", p.body)
	}
}
