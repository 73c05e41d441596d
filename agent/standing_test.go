package agent

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"timeclock/agent/store"
	"timeclock/internal/fakecloud"
	"timeclock/onboarding/identity"
	"timeclock/wire"
)

// TestCloudSaysDisabledOnScreen: an onboarded clock with no disable record
// (its state file lost after the disable) that its cloud refuses asks the
// cloud, hears 403 device_disabled over TLS of the cloud's CA, and shows
// exactly what a disabled clock shows: "Disabled by administrator" and F4,
// punches refused, the disable recorded and the credentials erased, and the
// same after a restart.
func TestCloudSaysDisabledOnScreen(t *testing.T) {
	fc := fakecloud.New(t)
	dir := t.TempDir()
	id := fc.Onboard(t, dir, "dev-lost")
	srv := httptest.NewUnstartedServer(fakecloud.Reply(http.StatusForbidden, wire.Error{Code: wire.ErrDisabled, Message: "disabled"}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{fc.CA.Server(t, "127.0.0.1")},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: fc.CA.Pool()}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	id.CloudURL = srv.URL
	if err := identity.NewStore(dir).Save(id); err != nil {
		t.Fatal(err)
	}
	fc.Refuse("dev-lost", true)
	r := cloudRig(t, fc, dir)
	r.waitScreen("Disabled by")
	r.waitScreen("F4: set up again")
	r.badge("10002")
	r.waitScreen("administrator")
	if st := r.status(); st.State != StateDisabled || st.Pending != 0 {
		t.Errorf("state %s, pending %d", st.State, st.Pending)
	}
	if _, err := identity.NewStore(dir).Load(); !errors.Is(err, identity.ErrNotOnboarded) {
		t.Errorf("identity after the disable: %v", err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := decodeDisable(st.Disabled())
	st.Close()
	if rec.Phase != phaseDisabled {
		t.Fatalf("the disable record: %+v", rec)
	}
	r = cloudRig(t, fc, dir)
	r.waitScreen("F4: set up again")
}
