package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"timeclock/cloud/access"
	"timeclock/cloud/store"
)

type rolesData struct {
	Roles []store.Role
	// Selected is the role whose permissions are shown, if any.
	Selected *store.Role
	Granted  map[string]bool
	Users    []store.User
	Notice   string
	Error    string
	NewName  string
}

func (s *server) rolesPage(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	s.renderRoles(w, r, sess, http.StatusOK, r.PathValue("id"), rolesData{Notice: notice(flash(r, "done"))})
}

// notice maps the redirect's done= key to its sentence: the query string
// never carries free text onto the page.
func notice(key string) string {
	return map[string]string{
		"created":  "The role was created. Grant its permissions below, then click Save.",
		"saved":    "The role's permissions were saved.",
		"deleted":  "The role was deleted; its users have no role now.",
		"assigned": "The users' roles were saved.",
	}[key]
}

func (s *server) renderRoles(w http.ResponseWriter, r *http.Request, sess *access.Session, status int, selected string, d rolesData) {
	err := s.Store.View(r.Context(), func(tx store.Tx) (err error) {
		if d.Roles, err = tx.Roles(sess.User.CompanyID); err != nil {
			return err
		}
		d.Users, err = tx.Users(sess.User.CompanyID)
		return err
	})
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	slices.SortFunc(d.Roles, func(a, b store.Role) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	if selected != "" {
		i := slices.IndexFunc(d.Roles, func(x store.Role) bool { return x.ID == selected })
		if i < 0 {
			s.fail(w, r, sess, http.StatusNotFound, "No such role", "There is no security role with this ID in your company.")
			return
		}
		d.Selected = &d.Roles[i]
		d.Granted = map[string]bool{}
		for _, p := range d.Selected.Permissions {
			d.Granted[p] = true
		}
	}
	s.render(w, r, status, "roles", view{Title: "Security Roles", Nav: "roles", Sess: sess, CSRF: sess.CSRF, Data: d})
}

const maxRoleName = 40

func (s *server) roleCreate(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	name := strings.Join(strings.Fields(r.PostFormValue("name")), " ")
	bad := ""
	switch {
	case name == "":
		bad = "Enter a name for the new role."
	case utf8.RuneCountInString(name) > maxRoleName || !utf8.ValidString(name):
		bad = fmt.Sprintf("A role name has at most %d characters.", maxRoleName)
	case strings.EqualFold(name, "Administrator"):
		bad = "Administrator is the built-in profile with every permission; choose another name."
	}
	if bad != "" {
		s.renderRoles(w, r, sess, http.StatusBadRequest, "", rolesData{Error: bad, NewName: name})
		return
	}
	b := make([]byte, 6)
	rand.Read(b)
	role := store.Role{CompanyID: sess.User.CompanyID, ID: hex.EncodeToString(b), Name: name, Permissions: []string{}, CreatedAt: s.Clock.Now().UTC()}
	err := s.Store.Update(r.Context(), func(tx store.Tx) error {
		rs, err := tx.Roles(role.CompanyID)
		if err != nil {
			return err
		}
		for _, x := range rs {
			if strings.EqualFold(x.Name, name) {
				return errDuplicate
			}
		}
		return tx.PutRole(role)
	})
	if errors.Is(err, errDuplicate) {
		s.renderRoles(w, r, sess, http.StatusConflict, "", rolesData{Error: "A role named " + name + " already exists.", NewName: name})
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	s.Log.Info("security role none -> created", "company", role.CompanyID, "role", role.ID, "by", sess.User.Email)
	http.Redirect(w, r, "/admin/security-roles/"+role.ID+"?done=created", http.StatusSeeOther)
}

var errDuplicate = errors.New("duplicate role name")

// roleSave sets the role's permissions to the boxes ticked.
func (s *server) roleSave(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	var ps []access.Permission
	for _, v := range r.PostForm["perm"] {
		if p := access.Permission(v); access.KnownPermission(p) {
			ps = append(ps, p)
		}
	}
	id := r.PathValue("id")
	var before []string
	err := s.Store.Update(r.Context(), func(tx store.Tx) error {
		role, err := tx.Role(sess.User.CompanyID, id)
		if err != nil {
			return err
		}
		before, role.Permissions = role.Permissions, access.PermissionNames(ps)
		return tx.PutRole(role)
	})
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, sess, http.StatusNotFound, "No such role", "There is no security role with this ID in your company.")
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	s.Log.Info("security role permissions "+strings.Join(before, ",")+" -> "+strings.Join(access.PermissionNames(ps), ",")+" (saved)",
		"company", sess.User.CompanyID, "role", id, "by", sess.User.Email)
	http.Redirect(w, r, "/admin/security-roles/"+id+"?done=saved", http.StatusSeeOther)
}

// roleDelete removes a role; its users are left with none.
func (s *server) roleDelete(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	id := r.PathValue("id")
	err := s.Store.Update(r.Context(), func(tx store.Tx) error {
		if err := tx.DeleteRole(sess.User.CompanyID, id); err != nil {
			return err
		}
		us, err := tx.Users(sess.User.CompanyID)
		if err != nil {
			return err
		}
		for _, u := range us {
			if u.RoleID == id {
				u.RoleID = ""
				if err := tx.PutUser(u); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, sess, http.StatusNotFound, "No such role", "There is no security role with this ID in your company.")
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	s.Log.Info("security role created -> deleted", "company", sess.User.CompanyID, "role", id, "by", sess.User.Email)
	http.Redirect(w, r, "/admin/security-roles?done=deleted", http.StatusSeeOther)
}

// roleAssign saves every non-administrator's role from the users table:
// field "role:EMAIL" holds a role ID or "" for none.
func (s *server) roleAssign(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	type change struct{ email, from, to string }
	var changes []change
	err := s.Store.Update(r.Context(), func(tx store.Tx) error {
		changes = changes[:0] // the function may run again
		us, err := tx.Users(sess.User.CompanyID)
		if err != nil {
			return err
		}
		for _, u := range us {
			v, ok := r.PostForm["role:"+strings.ToLower(u.Email)]
			if !ok || u.Administrator || len(v) != 1 || v[0] == u.RoleID {
				continue
			}
			if v[0] != "" {
				if _, err := tx.Role(u.CompanyID, v[0]); err != nil {
					return err
				}
			}
			changes = append(changes, change{u.Email, u.RoleID, v[0]})
			u.RoleID = v[0]
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		s.renderRoles(w, r, sess, http.StatusBadRequest, "", rolesData{Error: "That role no longer exists; nothing was changed. Choose again."})
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	for _, c := range changes {
		s.Log.Info("user role "+orNone(c.from)+" -> "+orNone(c.to)+" (assigned)", "company", sess.User.CompanyID, "user", c.email, "by", sess.User.Email)
	}
	http.Redirect(w, r, "/admin/security-roles?done=assigned", http.StatusSeeOther)
}

func orNone(id string) string {
	if id == "" {
		return "none"
	}
	return id
}
