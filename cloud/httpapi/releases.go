package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"timeclock/cloud/releases"
	"timeclock/cloud/store"
	"timeclock/release"
	"timeclock/wire"
)

// Over-the-air updates (docs/updates.md): the administrators' release
// routes (Bearer token, the Administrator profile) and the clocks' own
// (their device certificate).

func noReleases(w http.ResponseWriter) {
	writeAPIError(w, &wire.Error{Code: wire.ErrNotImplemented, Message: "this cloud keeps no releases"})
}

// releasesHandler is /api/v1/releases: GET lists, POST uploads.
func (a *api) releasesHandler() http.Handler {
	get, up := a.admin("GET", a.listReleases), a.admin("POST", a.uploadRelease)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			up.ServeHTTP(w, r)
			return
		}
		get.ServeHTTP(w, r)
	})
}

// uploadRelease answers POST /api/v1/releases: the body is a signed
// artifact (`timeclock-cloud release sign`).
func (a *api) uploadRelease(w http.ResponseWriter, r *http.Request, u who) {
	if a.Releases == nil {
		noReleases(w)
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, release.MaxPayload+release.MaxManifest+1024))
	if err != nil {
		writeAPIError(w, badRequest("reading the artifact: %v", err))
		return
	}
	rel, err := a.Releases.Add(b, u.Email, a.Clock.Now())
	if errors.Is(err, releases.ErrRefused) {
		writeAPIError(w, badRequest("%v", err))
		return
	}
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	a.Log.Info("release uploaded", "release", rel.ID, "version", rel.Version, "arch", rel.Arch, "by", u.Email)
	writeJSON(w, http.StatusCreated, rel)
}

// listReleases answers GET /api/v1/releases.
func (a *api) listReleases(w http.ResponseWriter, r *http.Request, u who) {
	if a.Releases == nil {
		noReleases(w)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Releases []releases.Release `json:"releases"`
	}{a.Releases.Releases()})
}

// updateDevice answers POST /api/v1/devices/{id}/update {"release": ID}.
func (a *api) updateDevice(w http.ResponseWriter, r *http.Request, u who) {
	if a.Releases == nil {
		noReleases(w)
		return
	}
	var req struct {
		Release string `json:"release"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req.Release == "" {
		writeAPIError(w, badRequest("want {\"release\": \"ID\"} (GET /api/v1/releases lists them)"))
		return
	}
	var d store.Device
	err := a.Store.View(r.Context(), func(tx store.Tx) (err error) {
		d, err = tx.Device(r.PathValue("id"))
		if err == nil && d.CompanyID != u.CompanyID {
			err = store.ErrNotFound
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		writeAPIError(w, &wire.Error{Code: wire.ErrNotFound, Message: "no device " + r.PathValue("id") + " in this company"})
		return
	}
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	if d.Status.Disabled() {
		writeAPIError(w, badRequest("device %s is disabled", d.ID))
		return
	}
	skipped, err := a.Releases.Assign(req.Release, []releases.Target{{DeviceID: d.ID, CompanyID: d.CompanyID, Model: d.Model}}, u.Email, a.Clock.Now())
	if errors.Is(err, releases.ErrUnknownRelease) {
		writeAPIError(w, &wire.Error{Code: wire.ErrNotFound, Message: err.Error()})
		return
	}
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	if why, ok := skipped[d.ID]; ok {
		writeAPIError(w, badRequest("%s", why))
		return
	}
	a.Log.Info("update offered", "device", d.ID, "release", req.Release, "by", u.Email)
	writeJSON(w, http.StatusOK, a.Releases.Devices(u.CompanyID)[d.ID])
}

// clockDevice is the clock presenting its certificate: its current one,
// of an enabled device. Otherwise it answers and returns false.
func (a *api) clockDevice(w http.ResponseWriter, r *http.Request) (store.Device, bool) {
	var d store.Device
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		writeAPIError(w, &wire.Error{Code: wire.ErrUnauthorized, Message: "a clock's certificate is needed"})
		return d, false
	}
	cert := r.TLS.VerifiedChains[0][0]
	err := a.Store.View(r.Context(), func(tx store.Tx) (err error) {
		d, err = tx.Device(cert.Subject.CommonName)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		writeErr(w, r, a.Log, err)
		return d, false
	}
	if err != nil || d.CertSerial != fmt.Sprintf("%x", cert.SerialNumber) || d.Status.Disabled() {
		writeAPIError(w, &wire.Error{Code: wire.ErrUnauthorized, Message: "this certificate is not an enabled clock's"})
		return d, false
	}
	return d, true
}

// updateReport answers a clock's POST wire.PathUpdateReport.
func (a *api) updateReport(w http.ResponseWriter, r *http.Request) {
	d, ok := a.clockDevice(w, r)
	if !ok {
		return
	}
	if a.Releases == nil {
		writeJSON(w, http.StatusOK, wire.UpdateReply{Stored: false})
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 8192))
	if err != nil {
		writeAPIError(w, badRequest("%v", err))
		return
	}
	rep, err := wire.DecodeUpdateReport(b)
	if err != nil {
		writeAPIError(w, badRequest("%v", err))
		return
	}
	offer, changed, err := a.Releases.Report(d.CompanyID, d.ID, rep, a.Clock.Now())
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	if changed && rep.State != "" {
		a.Log.Info("update report", "device", d.ID, "release", rep.Release, "state", rep.State, "reason", rep.Reason, "running", rep.Version)
	}
	writeJSON(w, http.StatusOK, wire.UpdateReply{Stored: true, Offer: offer})
}

// artifact serves a release's artifact to a clock, with Range.
func (a *api) artifact(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	if _, ok := a.clockDevice(w, r); !ok {
		return
	}
	if a.Releases == nil {
		noReleases(w)
		return
	}
	rel, err := a.Releases.Release(r.PathValue("id"))
	if err != nil {
		writeAPIError(w, &wire.Error{Code: wire.ErrNotFound, Message: err.Error()})
		return
	}
	f, err := os.Open(a.Releases.ArtifactPath(rel.ID))
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	defer f.Close()
	// A clock on a slow link takes longer than the server's write timeout;
	// a cut download resumes with Range anyway.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, rel.ID+".tcu", rel.UploadedAt, f)
}
