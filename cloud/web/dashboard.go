package web

import (
	"net/http"

	"timeclock/cloud/access"
	"timeclock/cloud/mobile"
)

// codeBox is the company setup code and when it changes; Hidden when the
// user's role lacks Manage Mobile Devices: Add.
type codeBox struct {
	Hidden bool
	Code   mobile.Code
}

func (s *server) codeBox(r *http.Request, sess *access.Session) (codeBox, error) {
	if !sess.Perms.Has(access.DevicesAdd) {
		return codeBox{Hidden: true}, nil
	}
	c, err := s.SetupCodes.SetupCode(r.Context(), sess.User.CompanyID)
	return codeBox{Code: c}, err
}

type dashboardData struct {
	Company            string
	Timezone           string
	Code               codeBox
	ShowCounts         bool
	Approved, Disabled int
}

func (s *server) dashboard(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	box, err := s.codeBox(r, sess)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	d := dashboardData{Company: sess.Company.Name, Timezone: sess.Company.Timezone, Code: box}
	if sess.Perms.Has(access.DevicesView) {
		list, err := s.Devices.List(r.Context(), sess.User.CompanyID)
		if err != nil {
			s.internal(w, r, sess, err)
			return
		}
		d.ShowCounts, d.Approved, d.Disabled = true, len(list.Approved), len(list.Disabled)
	}
	s.render(w, r, http.StatusOK, "dashboard", view{Title: "Dashboard", Nav: "dashboard", Sess: sess, CSRF: sess.CSRF, Data: d})
}
