package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"timeclock/cloud/store"
	"timeclock/wire"
)

// standing answers a clock's GET wire.PathStanding: whether the cloud
// still takes the clock whose verified certificate asks. A disabled
// clock whose state was lost (it came back up enabled, with its
// credentials) learns here that it is disabled: its broker connection is
// refused, and a refusal alone never says why (docs/protocol.md).
//
// Only a certificate the cloud's CA issued, and the device's newest, gets
// an answer about the device: approved or disabling (200), or disabled
// (403 device_disabled). Any other certificate gets 401, which the clock
// takes as no answer.
func (a *api) standing(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		writeAPIError(w, &wire.Error{Code: wire.ErrUnauthorized, Message: "a clock's certificate is needed"})
		return
	}
	cert := r.TLS.VerifiedChains[0][0]
	var d store.Device
	err := a.Store.View(r.Context(), func(tx store.Tx) (err error) {
		d, err = tx.Device(cert.Subject.CommonName)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		writeErr(w, r, a.Log, err)
		return
	}
	if err != nil || d.CertSerial == "" || !strings.EqualFold(d.CertSerial, fmt.Sprintf("%x", cert.SerialNumber)) {
		writeAPIError(w, &wire.Error{Code: wire.ErrUnauthorized, Message: "this certificate is not a clock's newest"})
		return
	}
	switch d.Status {
	case store.DeviceApproved:
		writeJSON(w, http.StatusOK, wire.Standing{Status: wire.StandingApproved})
	case store.DeviceDisabling:
		writeJSON(w, http.StatusOK, wire.Standing{Status: wire.StandingDisabling})
	default:
		a.Log.Info("standing: the disabled clock asked; told it is disabled", "device", d.ID)
		writeAPIError(w, &wire.Error{Code: wire.ErrDisabled, Message: "this clock was disabled by an administrator"})
	}
}
