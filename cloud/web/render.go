package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"timeclock/cloud/access"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// view is what every page template gets.
type view struct {
	Title string
	// Nav is the menu entry to highlight: dashboard, devices or roles.
	Nav  string
	Sess *access.Session
	// CSRF is the token the page's forms carry.
	CSRF string
	Data any
}

// Can reports whether the logged-in user has a permission (by name, for
// templates).
func (v view) Can(p string) bool { return v.Sess != nil && v.Sess.Perms.Has(access.Permission(p)) }

// Admin reports whether the logged-in user has the Administrator profile.
func (v view) Admin() bool { return v.Sess != nil && v.Sess.Perms.Administrator() }

type pages struct {
	byName map[string]*template.Template
}

// pageNames are the templates under templates/ that are whole pages; each
// is parsed with layout.html.
var pageNames = []string{"login", "error", "dashboard", "devices", "add", "disable", "rename", "punches", "roles", "users", "removeuser", "biometrics", "updates"}

func parsePages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range pageNames {
		t, err := template.New(n).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/setupcode.html", "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		p.byName[n] = t
	}
	return p, nil
}

var funcs = template.FuncMap{
	// when formats an instant in the company's time zone, as a table cell.
	"when": func(t time.Time, loc string) string {
		if t.IsZero() {
			return "Never"
		}
		return t.In(location(loc)).Format("Jan 2, 2006 3:04 PM MST")
	},
	// changes formats when the setup code changes, in words.
	"changes": func(t time.Time) string { return t.Format("Monday, January 2, 2006 at 3:04 PM MST") },
	"areas":   func() []access.Area { return access.Areas },
	"lower":   strings.ToLower,
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	},
}

func location(name string) *time.Location {
	if l, err := time.LoadLocation(name); err == nil {
		return l
	}
	return time.UTC
}

// render writes a page; a template failure is a 500, never half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t, ok := s.pages.byName[name]
	var buf bytes.Buffer
	err := fmt.Errorf("no template %q", name)
	if ok {
		err = t.ExecuteTemplate(&buf, "layout", v)
	}
	if err != nil {
		s.Log.Error("admin page: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type errorData struct {
	Status  int
	Heading string
	Message string
}

// fail shows an error page with the menu (when logged in).
func (s *server) fail(w http.ResponseWriter, r *http.Request, sess *access.Session, status int, heading, msg string) {
	v := view{Title: heading, Sess: sess, Data: errorData{Status: status, Heading: heading, Message: msg}}
	if sess != nil {
		v.CSRF = sess.CSRF
	}
	s.render(w, r, status, "error", v)
}

// internal logs err and shows a page without its details.
func (s *server) internal(w http.ResponseWriter, r *http.Request, sess *access.Session, err error) {
	s.Log.Error("admin page failed", "path", r.URL.Path, "err", err)
	s.fail(w, r, sess, http.StatusInternalServerError, "Something went wrong",
		"The page could not be shown. Try again in a moment; if it keeps happening, the cloud's log says why.")
}

func staticHandler(name, ctype string) http.Handler {
	b, err := fs.ReadFile(staticFS, "static/"+name)
	if err != nil {
		panic("web: embedded static file missing: " + name)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(b)
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// flash is a one-line notice carried in the redirect's query string.
func flash(r *http.Request, key string) string { return strings.TrimSpace(r.URL.Query().Get(key)) }
