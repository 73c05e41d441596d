package cloud

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"timeclock/cloud/web"
)

// An administrator who types the cloud's host name lands on the login page,
// not on an API answer.
func TestHostRootRedirectsToAdminPages(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("api")) })
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("pages")) })
	h := withAdminPages(api, pages)
	for _, tc := range []struct {
		method, path string
		code         int
		location     string
		body         string
	}{
		{"GET", "/", http.StatusFound, web.Prefix, ""},
		{"HEAD", "/", http.StatusFound, web.Prefix, ""},
		{"GET", "/admin", http.StatusMovedPermanently, web.Prefix, ""},
		{"GET", web.Prefix, 200, "", "pages"},
		{"POST", "/", 200, "", "api"},
		{"GET", "/api/v1/devices", 200, "", "api"},
	} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, "https://cloud.example"+tc.path, nil))
			if rec.Code != tc.code || rec.Header().Get("Location") != tc.location {
				t.Errorf("%d Location %q, want %d %q", rec.Code, rec.Header().Get("Location"), tc.code, tc.location)
			}
			if tc.body != "" && rec.Body.String() != tc.body {
				t.Errorf("body %q, want %q", rec.Body.String(), tc.body)
			}
		})
	}
}
