package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"timeclock/cloud/access"
	"timeclock/cloud/notify"
	"timeclock/cloud/store"
)

type devicesData struct {
	Timezone string
	Code     codeBox
	List     DeviceList
	// Names are the company's users' names by email, for Disabled By.
	Names map[string]string
	// Notice is a one-line result of the last action (sent, disabled).
	Notice string
}

func (s *server) devices(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	box, err := s.codeBox(r, sess)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	list, err := s.Devices.List(r.Context(), sess.User.CompanyID)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	if s.Releases != nil {
		ups := s.Releases.Devices(sess.User.CompanyID)
		for _, rows := range [][]DeviceRow{list.Approved, list.Disabled} {
			for i := range rows {
				if u, ok := ups[rows[i].ID]; ok && rows[i].Kind == KindClock {
					rows[i].Update = updateText(u)
				}
			}
		}
	}
	d := devicesData{Timezone: sess.Company.Timezone, Code: box, List: list, Names: map[string]string{}}
	err = s.Store.View(r.Context(), func(tx store.Tx) error {
		us, err := tx.Users(sess.User.CompanyID)
		for _, u := range us {
			d.Names[strings.ToLower(u.Email)] = u.Name
		}
		return err
	})
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	if n, err := notify.ParseUSMobile(flash(r, "sent")); err == nil {
		d.Notice = "The company setup code was sent by text message to " + n.String() + "."
	}
	if id := flash(r, "renamed"); id != "" {
		for _, row := range list.Approved {
			if row.ID == id {
				d.Notice = "The clock " + row.ID + " is now called " + row.Nickname + ". It shows the new name after its next connection."
			}
		}
	}
	if id := flash(r, "enabled"); id != "" {
		for _, row := range list.Disabled {
			if row.ID == id {
				d.Notice = row.Nickname + " (" + row.ID + ") is enabled again: onboard it on the clock (company ID, then the code mailed to the administrators) and it is approved again under the same ID."
			}
		}
	}
	if id := flash(r, "disabled"); id != "" {
		for _, row := range list.Disabled {
			if row.ID == id {
				d.Notice = row.Nickname + " (" + row.ID + ") is disabled. " + lastTransmission(row.Kind)
			}
		}
	}
	s.render(w, r, http.StatusOK, "devices", view{Title: "Mobile Devices", Nav: "devices", Sess: sess, CSRF: sess.CSRF, Data: d})
}

func lastTransmission(k DeviceKind) string {
	if k == KindClock {
		return "The clock sends its remaining punches one last time, then shows \"Disabled by administrator\" and refuses punches until it is onboarded again."
	}
	return "This copy of the mobile app sends its records one last time, then stops working."
}

type addData struct {
	Code       codeBox
	Phone      string
	Error      string
	Notice     string
	Configured bool
	// Back is where Cancel goes: the Mobile Devices page, or the start
	// page for a user who may add but not view.
	Back string
}

func (s *server) addDevicePage(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	d := addData{}
	if n, err := notify.ParseUSMobile(flash(r, "sent")); err == nil {
		d.Notice = "The company setup code was sent by text message to " + n.String() + "."
	}
	s.renderAdd(w, r, sess, http.StatusOK, d)
}

func (s *server) renderAdd(w http.ResponseWriter, r *http.Request, sess *access.Session, status int, d addData) {
	box, err := s.codeBox(r, sess)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	d.Code, d.Configured, d.Back = box, s.SMS != nil, "/admin/mobile-devices"
	if !sess.Perms.Has(access.DevicesView) {
		d.Back = Prefix
	}
	s.render(w, r, status, "add", view{Title: "Add a Mobile Device", Nav: "devices", Sess: sess, CSRF: sess.CSRF, Data: d})
}

// addDevicePost texts the setup code to a US mobile number.
func (s *server) addDevicePost(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	d := addData{Phone: strings.TrimSpace(r.PostFormValue("phone"))}
	if s.SMS == nil {
		d.Error = notify.ErrSMSNotConfigured.Error() + "."
		s.renderAdd(w, r, sess, http.StatusServiceUnavailable, d)
		return
	}
	num, err := notify.ParseUSMobile(d.Phone)
	if err != nil {
		d.Error = sentence(err.Error())
		s.renderAdd(w, r, sess, http.StatusBadRequest, d)
		return
	}
	if ok, wait := s.smsRate.Allow("company " + sess.User.CompanyID); !ok {
		d.Error = "Too many text messages were sent for this company; wait " + wait.String() + " and try again."
		s.renderAdd(w, r, sess, http.StatusTooManyRequests, d)
		return
	}
	code, err := s.SetupCodes.SetupCode(r.Context(), sess.User.CompanyID)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	msg := notify.SMS{To: num, Body: notify.SetupCodeText(code.Company.Name, code.Code, code.Changes), Date: s.Clock.Now()}
	if err := s.SMS.Send(r.Context(), msg); err != nil {
		s.Log.Error("admin page: setup code SMS failed", "company", sess.User.CompanyID, "err", err)
		d.Error = "The text message could not be sent. Try again later; if it keeps failing, the cloud's log says why."
		s.renderAdd(w, r, sess, http.StatusBadGateway, d)
		return
	}
	// The number is not logged in full: it is an employee's personal data.
	s.Log.Info("setup code sent by SMS", "company", sess.User.CompanyID, "by", sess.User.Email, "to", mask(num))
	to := "/admin/mobile-devices"
	if !sess.Perms.Has(access.DevicesView) {
		to = "/admin/mobile-devices/add" // the list is not theirs to see
	}
	http.Redirect(w, r, to+"?sent="+url.QueryEscape(string(num)), http.StatusSeeOther)
}

// sentence capitalises a message and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// mask keeps the last two digits of a number, for the log.
func mask(n notify.PhoneNumber) string {
	s := string(n)
	if len(s) < 4 {
		return "…"
	}
	return s[:2] + strings.Repeat("•", len(s)-4) + s[len(s)-2:]
}

type disableData struct {
	Timezone string
	Row      DeviceRow
	Kind     string
	Note     string
}

// disablePage is the confirmation step: a page, so it works without
// JavaScript.
func (s *server) disablePage(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	row, disabled, err := s.Devices.Find(r.Context(), sess.User.CompanyID, r.PathValue("id"))
	if errors.Is(err, ErrNoDevice) {
		s.fail(w, r, sess, http.StatusNotFound, "No such device", "There is no device with this ID in your company.")
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	if disabled {
		http.Redirect(w, r, "/admin/mobile-devices?disabled="+url.QueryEscape(row.ID), http.StatusSeeOther)
		return
	}
	d := disableData{Timezone: sess.Company.Timezone, Row: row, Kind: row.Kind.String(), Note: lastTransmission(row.Kind)}
	s.render(w, r, http.StatusOK, "disable", view{Title: "Disable " + row.Nickname, Nav: "devices", Sess: sess, CSRF: sess.CSRF, Data: d})
}

func (s *server) disablePost(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	id := r.PathValue("id")
	err := s.Devices.Disable(r.Context(), sess.User.CompanyID, id, sess.User.Email)
	if errors.Is(err, ErrNoDevice) {
		s.fail(w, r, sess, http.StatusNotFound, "No such device", "There is no device with this ID in your company.")
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	http.Redirect(w, r, "/admin/mobile-devices?disabled="+url.QueryEscape(id), http.StatusSeeOther)
}

type renameData struct {
	Timezone string
	Row      DeviceRow
	Nickname string
	Error    string
}

// renamePage asks for a clock's new nickname.
func (s *server) renamePage(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	row, _, err := s.Devices.Find(r.Context(), sess.User.CompanyID, r.PathValue("id"))
	if errors.Is(err, ErrNoDevice) || (err == nil && (row.Kind != KindClock || s.Devices.Renamer == nil)) {
		s.fail(w, r, sess, http.StatusNotFound, "No such clock", "There is no clock with this ID in your company.")
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	s.renderRename(w, r, sess, http.StatusOK, renameData{Row: row, Nickname: row.Nickname})
}

func (s *server) renderRename(w http.ResponseWriter, r *http.Request, sess *access.Session, status int, d renameData) {
	d.Timezone = sess.Company.Timezone
	s.render(w, r, status, "rename", view{Title: "Rename " + d.Row.Nickname, Nav: "devices", Sess: sess, CSRF: sess.CSRF, Data: d})
}

// maxNickname is the admin API's limit, in characters.
const maxNickname = 64

func (s *server) renamePost(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	id := r.PathValue("id")
	row, _, err := s.Devices.Find(r.Context(), sess.User.CompanyID, id)
	if errors.Is(err, ErrNoDevice) || (err == nil && (row.Kind != KindClock || s.Devices.Renamer == nil)) {
		s.fail(w, r, sess, http.StatusNotFound, "No such clock", "There is no clock with this ID in your company.")
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("nickname"))
	if n := len([]rune(name)); n == 0 || n > maxNickname {
		s.renderRename(w, r, sess, http.StatusBadRequest, renameData{Row: row, Nickname: name,
			Error: fmt.Sprintf("A nickname has 1 to %d characters.", maxNickname)})
		return
	}
	if err := s.Devices.Rename(r.Context(), sess.User.CompanyID, id, name, sess.User.Email); err != nil {
		s.internal(w, r, sess, err)
		return
	}
	http.Redirect(w, r, "/admin/mobile-devices?renamed="+url.QueryEscape(id), http.StatusSeeOther)
}

// enablePost enables a disabled clock again: it may be onboarded again
// (the onboarding screen's "ask them to enable it").
func (s *server) enablePost(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	id := r.PathValue("id")
	err := s.Devices.Enable(r.Context(), sess.User.CompanyID, id, sess.User.Email)
	if errors.Is(err, ErrNoDevice) {
		s.fail(w, r, sess, http.StatusNotFound, "No such clock", "There is no clock with this ID in your company.")
		return
	}
	if err != nil {
		s.fail(w, r, sess, http.StatusConflict, "Not enabled",
			"Only a disabled clock whose last transmission came in can be enabled again; nothing was changed.")
		return
	}
	http.Redirect(w, r, "/admin/mobile-devices?enabled="+url.QueryEscape(id), http.StatusSeeOther)
}
