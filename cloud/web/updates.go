package web

// The Updates page (administrators only): upload a signed release, offer
// it to one clock, several, or every clock of a model, and follow each
// clock's update: offered, downloading (percent), installing, trial,
// committed, or rolled back / refused with the reason the clock reported.

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"

	"timeclock/cloud/access"
	"timeclock/cloud/releases"
	"timeclock/release"
	"timeclock/wire"
)

// maxUpload bounds an uploaded artifact with its form.
const maxUpload = release.MaxPayload + release.MaxManifest + 1<<20

type updateClock struct {
	ID, Nickname, Model, Version string
	Update                       releases.Device
	Has                          bool
}

// State is the clock's update in words, as the Mobile Devices page and
// the Updates page show it.
func (c updateClock) State() string {
	if !c.Has {
		return "—"
	}
	return updateText(c.Update)
}

func updateText(u releases.Device) string {
	s := u.Target + ": " + u.State
	switch u.State {
	case wire.UpdateDownloading:
		s += " " + strconv.Itoa(u.Percent) + "%"
	case wire.UpdateRolledBack:
		s = u.Target + ": rolled back"
	}
	if u.Reason != "" && u.State != wire.UpdateCommitted {
		s += " (" + u.Reason + ")"
	}
	return s
}

type updatesData struct {
	Releases []releases.Release
	Clocks   []updateClock
	Models   []string
	Notice   string
	Error    string
	Timezone string
}

func (s *server) adminOnly(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, sess *access.Session) {
		if !sess.Perms.Administrator() {
			s.fail(w, r, sess, http.StatusForbidden, "You do not have permission",
				"Updates are for users with the Administrator profile: a release changes the software on the company's clocks.")
			return
		}
		if s.Releases == nil {
			s.fail(w, r, sess, http.StatusNotFound, "No updates here", "This cloud keeps no releases.")
			return
		}
		h(w, r, sess)
	}
}

func (s *server) updatesPage(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	s.renderUpdates(w, r, sess, http.StatusOK, flash(r, "done"), flash(r, "error"))
}

func (s *server) renderUpdates(w http.ResponseWriter, r *http.Request, sess *access.Session, status int, notice, errMsg string) {
	list, err := s.Devices.List(r.Context(), sess.User.CompanyID)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	ups := s.Releases.Devices(sess.User.CompanyID)
	d := updatesData{Releases: s.Releases.Releases(), Notice: notice, Error: errMsg, Timezone: sess.Company.Timezone}
	for _, row := range list.Approved {
		if row.Kind != KindClock {
			continue
		}
		u, ok := ups[row.ID]
		d.Clocks = append(d.Clocks, updateClock{ID: row.ID, Nickname: row.Nickname, Model: row.Type, Version: row.Version, Update: u, Has: ok})
		if row.Type != "" && !slices.Contains(d.Models, row.Type) {
			d.Models = append(d.Models, row.Type)
		}
	}
	sort.Strings(d.Models)
	s.render(w, r, status, "updates", view{Title: "Updates", Nav: "updates", Sess: sess, CSRF: sess.CSRF, Data: d})
}

func (s *server) updatesUpload(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	f, _, err := r.FormFile("artifact")
	if err != nil {
		s.renderUpdates(w, r, sess, http.StatusBadRequest, "", "Choose the signed release file (.tcu) to upload.")
		return
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		s.renderUpdates(w, r, sess, http.StatusBadRequest, "", "The upload did not complete; try again.")
		return
	}
	rel, err := s.Releases.Add(b, sess.User.Email, s.Clock.Now())
	if errors.Is(err, releases.ErrRefused) {
		s.renderUpdates(w, r, sess, http.StatusBadRequest, "", "That file was not accepted: "+err.Error()+". Upload a release signed with the company's release key.")
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	s.Log.Info("release uploaded", "release", rel.ID, "version", rel.Version, "by", sess.User.Email)
	http.Redirect(w, r, "/admin/updates?done="+url.QueryEscape("Release "+rel.Version+" for "+rel.Arch+" uploaded."), http.StatusSeeOther)
}

func (s *server) updatesOffer(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	id := r.PostFormValue("release")
	rel, err := s.Releases.Release(id)
	if err != nil {
		s.renderUpdates(w, r, sess, http.StatusBadRequest, "", "Pick a release from the list.")
		return
	}
	list, err := s.Devices.List(r.Context(), sess.User.CompanyID)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	picked := r.PostForm["device"]
	model := r.PostFormValue("model")
	var targets []releases.Target
	for _, row := range list.Approved {
		if row.Kind == KindClock && (slices.Contains(picked, row.ID) || (model != "" && row.Type == model)) {
			targets = append(targets, releases.Target{DeviceID: row.ID, CompanyID: sess.User.CompanyID, Model: row.Type})
		}
	}
	if len(targets) == 0 {
		s.renderUpdates(w, r, sess, http.StatusBadRequest, "", "Pick the clocks to update: tick them, or choose every clock of a model.")
		return
	}
	skipped, err := s.Releases.Assign(id, targets, sess.User.Email, s.Clock.Now())
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	n := len(targets) - len(skipped)
	msg := "Release " + rel.Version + " offered to " + strconv.Itoa(n) + " clock(s); each installs it at its next check-in."
	if len(skipped) > 0 {
		msg += " " + strconv.Itoa(len(skipped)) + " skipped: the release is not for their model."
	}
	s.Log.Info("release offered", "release", id, "clocks", n, "skipped", len(skipped), "by", sess.User.Email)
	http.Redirect(w, r, "/admin/updates?done="+url.QueryEscape(msg), http.StatusSeeOther)
}
