package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"timeclock/cloud/access"
)

// The cookies. "__Host-" makes browsers insist on Secure, Path=/ and no
// Domain, so no other host or plain-HTTP page can set them.
const (
	sessionCookie = "__Host-tc_session"
	// loginCSRFCookie guards the login form itself (before there is a
	// session): the form's hidden field must match it.
	loginCSRFCookie = "__Host-tc_login"
)

func loginURL(next string) string {
	if next == "" || next == "/admin/" {
		return "/admin/login"
	}
	return "/admin/login?next=" + url.QueryEscape(next)
}

// safeNext keeps the after-login redirect on this site's admin pages.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}

type loginData struct {
	Email, CompanyID, Next string
	AskCompany             bool
	Error                  string
	LoggedOut              bool
}

func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, err := s.session(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next")), LoggedOut: r.URL.Query().Has("bye")})
}

func (s *server) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	tok := ""
	if c, err := r.Cookie(loginCSRFCookie); err == nil && len(c.Value) == 43 {
		tok = c.Value
	} else {
		b := make([]byte, 32)
		rand.Read(b)
		tok = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/", Secure: true, HttpOnly: true,
			SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	}
	s.render(w, r, status, "login", view{Title: "Log in", CSRF: tok, Data: d})
}

func (s *server) loginPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	c, err := r.Cookie(loginCSRFCookie)
	field := r.PostFormValue(csrfField)
	if err != nil || field == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(field)) != 1 {
		s.csrfFailed(w, r, nil)
		return
	}
	d := loginData{
		Email:     strings.TrimSpace(r.PostFormValue("email")),
		CompanyID: strings.TrimSpace(r.PostFormValue("company_id")),
		Next:      safeNext(r.PostFormValue("next")),
	}
	d.AskCompany = d.CompanyID != ""
	sess, err := s.Logins.Login(r.Context(), source(r), d.Email, d.CompanyID, r.PostFormValue("password"))
	var rl *access.RateLimitedError
	switch {
	case err == nil:
	case errors.Is(err, access.ErrBadLogin):
		d.Error = "The email or password is not right. Check them and try again."
		s.renderLogin(w, r, http.StatusUnauthorized, d)
		return
	case errors.Is(err, access.ErrChooseCompany):
		d.Error, d.AskCompany = "This email has a login with more than one company. Enter the Company ID as well.", true
		s.renderLogin(w, r, http.StatusUnauthorized, d)
		return
	case errors.As(err, &rl):
		d.Error = "Too many wrong logins. Wait " + rl.RetryAfter.String() + " and try again."
		w.Header().Set("Retry-After", itoa(int(rl.RetryAfter.Seconds())))
		s.renderLogin(w, r, http.StatusTooManyRequests, d)
		return
	default:
		s.internal(w, r, nil, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Cookie, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.MaxAge.Seconds())})
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: "", Path: "/", Secure: true, HttpOnly: true, MaxAge: -1})
	to := d.Next
	if to == Prefix {
		to = landing(sess.Perms)
		if to == "" {
			to = Prefix
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	if err := s.Logins.Logout(r.Context(), *sess); err != nil {
		s.internal(w, r, sess, err)
		return
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/admin/login?bye=1", http.StatusSeeOther)
}

func (s *server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// source is the client's address without the port.
func source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
