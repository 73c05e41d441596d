package web

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"

	"timeclock/cloud/access"
	"timeclock/cloud/store"
)

type usersData struct {
	Users    []store.User
	Roles    map[string]string // role ID -> name
	RoleList []store.Role
	Me       string // the signed-in user's email: no Remove on their own row
	Notice   string
	Done     string // the notice's key, its element's id (notice-KEY)
	Error    string
	// The add form, kept after a refusal (never the password).
	Name, Email, RoleID string
	Administrator       bool
}

// usersNotice maps done= to its sentence (no free text from the query).
func usersNotice(key string) string {
	return map[string]string{
		"added":    "The user was added. They log in with their email and the password you gave them.",
		"password": "The password was reset. Give the new one to the user; nobody else sees it.",
		"removed":  "The user was removed; their login no longer works.",
	}[key]
}

func (s *server) usersPage(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	done := flash(r, "done")
	d := usersData{Notice: usersNotice(done)}
	if d.Notice != "" {
		d.Done = done
	}
	s.renderUsers(w, r, sess, http.StatusOK, d)
}

func (s *server) renderUsers(w http.ResponseWriter, r *http.Request, sess *access.Session, status int, d usersData) {
	d.Me, d.Roles = strings.ToLower(sess.User.Email), map[string]string{}
	err := s.Store.View(r.Context(), func(tx store.Tx) (err error) {
		if d.Users, err = tx.Users(sess.User.CompanyID); err != nil {
			return err
		}
		d.RoleList, err = tx.Roles(sess.User.CompanyID)
		for _, ro := range d.RoleList {
			d.Roles[ro.ID] = ro.Name
		}
		return err
	})
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	s.render(w, r, status, "users", view{Title: "Users", Nav: "users", Sess: sess, CSRF: sess.CSRF, Data: d})
}

// userAdd adds a user with a password the administrator gives them.
func (s *server) userAdd(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	d := usersData{Name: strings.TrimSpace(r.PostFormValue("name")), Email: strings.TrimSpace(r.PostFormValue("email")),
		RoleID: r.PostFormValue("role"), Administrator: r.PostFormValue("administrator") == "on"}
	refuse := func(msg string) {
		d.Error = msg
		s.renderUsers(w, r, sess, http.StatusBadRequest, d)
	}
	if a, err := mail.ParseAddress(d.Email); err != nil || a.Address != d.Email {
		refuse("Type the user's email address, such as pat@example.com.")
		return
	}
	if d.Name == "" {
		refuse("Type the user's name.")
		return
	}
	if d.Administrator {
		d.RoleID = "" // every permission already
	}
	hash, err := s.Logins.HashPassword(r.PostFormValue("password"))
	if err != nil {
		refuse(sentence(err.Error()))
		return
	}
	exists := false
	err = s.Store.Update(r.Context(), func(tx store.Tx) error {
		if _, err := tx.User(sess.User.CompanyID, d.Email); err == nil {
			exists = true
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if d.RoleID != "" {
			if _, err := tx.Role(sess.User.CompanyID, d.RoleID); err != nil {
				return err
			}
		}
		return tx.PutUser(store.User{CompanyID: sess.User.CompanyID, Email: d.Email, Name: d.Name,
			Administrator: d.Administrator, RoleID: d.RoleID, PasswordHash: hash})
	})
	switch {
	case exists:
		refuse(d.Email + " is already a user of this company.")
		return
	case errors.Is(err, store.ErrNotFound):
		refuse("That role no longer exists; choose again.")
		return
	case err != nil:
		s.internal(w, r, sess, err)
		return
	}
	s.Log.Info("user added", "company", sess.User.CompanyID, "user", d.Email, "administrator", d.Administrator, "role", d.RoleID, "by", sess.User.Email)
	http.Redirect(w, r, "/admin/users?done=added", http.StatusSeeOther)
}

// userPassword resets a user's password to one the administrator gives.
func (s *server) userPassword(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	email := r.PostFormValue("email")
	hash, err := s.Logins.HashPassword(r.PostFormValue("password"))
	if err != nil {
		s.renderUsers(w, r, sess, http.StatusBadRequest, usersData{Error: "The password was not reset: " + sentence(err.Error())})
		return
	}
	err = s.Store.Update(r.Context(), func(tx store.Tx) error {
		u, err := tx.User(sess.User.CompanyID, email)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		return tx.PutUser(u)
	})
	if errors.Is(err, store.ErrNotFound) {
		s.renderUsers(w, r, sess, http.StatusNotFound, usersData{Error: "There is no such user; nothing was changed."})
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	s.Log.Info("user password reset", "company", sess.User.CompanyID, "user", email, "by", sess.User.Email)
	http.Redirect(w, r, "/admin/users?done=password", http.StatusSeeOther)
}

// userRemove removes a user: not oneself, and never the last
// administrator (the clocks' codes go to administrators only).
func (s *server) userRemove(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	email := r.PostFormValue("email")
	if strings.EqualFold(email, sess.User.Email) {
		s.renderUsers(w, r, sess, http.StatusBadRequest, usersData{Error: "You cannot remove yourself; another administrator can."})
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		s.confirmRemove(w, r, sess, email)
		return
	}
	var refusal string
	err := s.Store.Update(r.Context(), func(tx store.Tx) error {
		refusal = ""
		u, err := tx.User(sess.User.CompanyID, email)
		if err != nil {
			return err
		}
		if u.Administrator {
			us, err := tx.Users(sess.User.CompanyID)
			if err != nil {
				return err
			}
			admins := 0
			for _, x := range us {
				if x.Administrator {
					admins++
				}
			}
			if admins < 2 {
				refusal = "This is the company's last administrator: the clocks' authentication codes go to administrators only. Add another first."
				return nil
			}
		}
		return tx.DeleteUser(sess.User.CompanyID, u.Email)
	})
	if errors.Is(err, store.ErrNotFound) {
		s.renderUsers(w, r, sess, http.StatusNotFound, usersData{Error: "There is no such user; nothing was changed."})
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	if refusal != "" {
		s.renderUsers(w, r, sess, http.StatusConflict, usersData{Error: refusal})
		return
	}
	s.Log.Info("user removed", "company", sess.User.CompanyID, "user", email, "by", sess.User.Email)
	http.Redirect(w, r, "/admin/users?done=removed", http.StatusSeeOther)
}

// confirmRemove asks before a user is removed, as Disable does for a clock:
// who it is, and what removing them changes.
func (s *server) confirmRemove(w http.ResponseWriter, r *http.Request, sess *access.Session, email string) {
	var u store.User
	profile := "No role"
	err := s.Store.View(r.Context(), func(tx store.Tx) (err error) {
		if u, err = tx.User(sess.User.CompanyID, email); err != nil {
			return err
		}
		switch {
		case u.Administrator:
			profile = "Administrator"
		case u.RoleID != "":
			roles, err := tx.Roles(sess.User.CompanyID)
			if err != nil {
				return err
			}
			for _, ro := range roles {
				if ro.ID == u.RoleID {
					profile = ro.Name
				}
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		s.renderUsers(w, r, sess, http.StatusNotFound, usersData{Error: "There is no such user; nothing was changed."})
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	s.render(w, r, http.StatusOK, "removeuser", view{Title: "Remove " + u.Name, Nav: "users", Sess: sess, CSRF: sess.CSRF,
		Data: struct {
			User    store.User
			Profile string
		}{u, profile}})
}
