package httpapi

import (
	"context"
	"net/http"

	"timeclock/cloud/store"
)

// BiometricDeleter is the registry's "delete biometric data" (cloud/registry).
type BiometricDeleter interface {
	DeleteBiometrics(ctx context.Context, companyID, employee, by string) (int, error)
}

// BiometricList is the answer of GET /api/v1/biometrics.
type BiometricList struct {
	CompanyID string                    `json:"company_id"`
	Employees []store.BiometricEmployee `json:"employees"`
}

// biometrics answers GET /api/v1/biometrics: per employee, the clocks
// they are enrolled on, the consent, and when templates were deleted.
func (a *api) biometrics(w http.ResponseWriter, r *http.Request, u who) {
	list := BiometricList{CompanyID: u.CompanyID}
	err := a.Store.View(r.Context(), func(tx store.Tx) (err error) {
		list.Employees, err = store.BiometricSummary(tx, u.CompanyID)
		return err
	})
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// BiometricDeletion is the answer of POST /api/v1/biometrics/{employee}/delete.
type BiometricDeletion struct {
	Employee string `json:"employee"`
	// Clocks is how many clocks were sent the deletion; each reports it
	// back once its module deleted the templates.
	Clocks int `json:"clocks"`
}

// deleteBiometrics answers POST /api/v1/biometrics/{employee}/delete: every
// clock of the company deletes the employee's fingerprint templates.
func (a *api) deleteBiometrics(w http.ResponseWriter, r *http.Request, u who) {
	del, ok := a.Devices.(BiometricDeleter)
	if !ok {
		noRegistry(w)
		return
	}
	emp := r.PathValue("employee")
	n, err := del.DeleteBiometrics(r.Context(), u.CompanyID, emp, u.Email)
	if err != nil {
		registryErr(w, r, a, err)
		return
	}
	writeJSON(w, http.StatusAccepted, BiometricDeletion{Employee: emp, Clocks: n})
}
