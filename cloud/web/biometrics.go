package web

import (
	"net/http"
	"net/url"

	"timeclock/cloud/access"
	"timeclock/cloud/store"
)

type biometricsData struct {
	Timezone  string
	Employees []store.BiometricEmployee
	Deleted   string // the employee whose deletion was just sent
	Clocks    int    // to how many clocks
	CanDelete bool
}

// biometricsPage lists, per employee, the clocks they are enrolled on with
// their fingerprint, the consent (when, which supervisor) and when their
// templates were deleted. Administrators only: it is about biometric data.
func (s *server) biometricsPage(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	if !sess.Perms.Administrator() {
		s.refuseBiometrics(w, r, sess)
		return
	}
	d := biometricsData{Timezone: sess.Company.Timezone, Deleted: r.URL.Query().Get("deleted"), CanDelete: s.Devices != nil && s.Devices.Biometrics != nil}
	err := s.Store.View(r.Context(), func(tx store.Tx) (err error) {
		d.Employees, err = store.BiometricSummary(tx, sess.User.CompanyID)
		return err
	})
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	s.render(w, r, http.StatusOK, "biometrics", view{Title: "Biometrics", Nav: "biometrics", Sess: sess, CSRF: sess.CSRF, Data: d})
}

// biometricsDelete sends every clock the deletion of an employee's
// fingerprint templates ("delete biometric data").
func (s *server) biometricsDelete(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	if !sess.Perms.Administrator() {
		s.refuseBiometrics(w, r, sess)
		return
	}
	if s.Devices == nil || s.Devices.Biometrics == nil {
		s.fail(w, r, sess, http.StatusNotImplemented, "Not available", "This cloud runs without its clocks' connection; nothing was deleted.")
		return
	}
	emp := r.PostFormValue("employee")
	if _, err := s.Devices.Biometrics.DeleteBiometrics(r.Context(), sess.User.CompanyID, emp, sess.User.Email); err != nil {
		s.fail(w, r, sess, http.StatusBadRequest, "Not deleted", "The employee ID is not valid; nothing was deleted.")
		return
	}
	http.Redirect(w, r, "/admin/biometrics?deleted="+url.QueryEscape(emp), http.StatusSeeOther)
}

func (s *server) refuseBiometrics(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	s.Log.Info("admin page: refused (not an administrator)", "path", r.URL.Path, "user", sess.User.Email)
	s.fail(w, r, sess, http.StatusForbidden, "You do not have permission",
		"This page is for administrators only: it is about employees' biometric data.")
}
