package httpapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"timeclock/clock"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/wire"
)

// TestStanding: a clock asking with its newest certificate hears whether
// the cloud still takes it; only a disabled clock's newest certificate gets
// 403 device_disabled. Old or unknown certificates, and callers without
// one, learn nothing about the device (401).
func TestStanding(t *testing.T) {
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(context.Background(), func(tx store.Tx) error {
		for _, d := range []store.Device{
			{ID: "d1", CompanyID: companyID, Serial: "S1", Status: store.DeviceApproved, CertSerial: "a1"},
			{ID: "d2", CompanyID: companyID, Serial: "S2", Status: store.DeviceDisabling, CertSerial: "a2"},
			{ID: "d3", CompanyID: companyID, Serial: "S3", Status: store.DeviceDisabled, CertSerial: "a3", RevokedSerials: []string{"a3", "93"}},
		} {
			if err := tx.PutDevice(d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h := NewAPI(Deps{Store: db, Clock: clock.NewFake(t0), Log: slog.New(slog.DiscardHandler)})
	ask := func(method, cn string, serial int64) (int, bool, error) {
		req := httptest.NewRequest(method, "https://cloud.example"+wire.PathStanding, nil)
		if cn != "" {
			c := &x509.Certificate{Subject: pkix.Name{CommonName: cn}, SerialNumber: big.NewInt(serial)}
			req.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{c}}, PeerCertificates: []*x509.Certificate{c}}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Result().Body)
		d, err := wire.DecodeStanding(rec.Code, b)
		return rec.Code, d, err
	}
	for _, tc := range []struct {
		name     string
		method   string
		cn       string
		serial   int64
		code     int
		disabled bool
	}{
		{"approved", "GET", "d1", 0xa1, http.StatusOK, false},
		{"disabling: its last transmission still goes", "GET", "d2", 0xa2, http.StatusOK, false},
		{"disabled", "GET", "d3", 0xa3, http.StatusForbidden, true},
		{"disabled, an older certificate", "GET", "d3", 0x93, http.StatusUnauthorized, false},
		{"approved, another certificate", "GET", "d1", 0xa3, http.StatusUnauthorized, false},
		{"unknown device", "GET", "d9", 0xa3, http.StatusUnauthorized, false},
		{"no certificate", "GET", "", 0, http.StatusUnauthorized, false},
		{"POST", "POST", "d3", 0xa3, http.StatusMethodNotAllowed, false},
	} {
		code, d, err := ask(tc.method, tc.cn, tc.serial)
		if code != tc.code || d != tc.disabled || (code == http.StatusOK) != (err == nil && !d) {
			t.Errorf("%s: HTTP %d disabled %v (%v), want %d %v", tc.name, code, d, err, tc.code, tc.disabled)
		}
	}
}
