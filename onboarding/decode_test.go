package onboarding

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"timeclock/internal/testpki"
	"timeclock/wire"
)

func goodActivate(t testing.TB, ca *testpki.CA) wire.ActivateResponse {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	csr, _ := x509.ParseCertificateRequest(der)
	return wire.ActivateResponse{
		DeviceID: "dev-1", Certificate: string(ca.SignCSR(t, csr, "dev-1")), CA: string(ca.PEM()),
		MQTT:     wire.Endpoints{TLS: "cloud.example:59777", WebSocket: "wss://cloud.example:59778/mqtt"},
		Timezone: "Europe/Berlin", Nickname: "Clock TC00", TechnicianPasscode: "secret-774411",
		ActivatedAt: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC),
	}
}

func TestDecodeActivate(t *testing.T) {
	ca := testpki.NewCA(t, "ca")
	good := goodActivate(t, ca)
	for _, tc := range []struct {
		name string
		mod  func(*wire.ActivateResponse)
		want string
	}{
		{"good", func(*wire.ActivateResponse) {}, ""},
		{"no device", func(r *wire.ActivateResponse) { r.DeviceID = "" }, "device_id"},
		{"slash in device", func(r *wire.ActivateResponse) { r.DeviceID = "../x" }, "device_id"},
		{"cert junk", func(r *wire.ActivateResponse) { r.Certificate = "junk" }, "certificate"},
		{"no ca", func(r *wire.ActivateResponse) { r.CA = "" }, "ca"},
		{"bad zone", func(r *wire.ActivateResponse) { r.Timezone = "Nowhere/Land" }, "timezone"},
		{"no passcode", func(r *wire.ActivateResponse) { r.TechnicianPasscode = "" }, "technician_passcode"},
		{"control passcode", func(r *wire.ActivateResponse) { r.TechnicianPasscode = "secret\n" }, "technician_passcode"},
		{"bad mqtt", func(r *wire.ActivateResponse) { r.MQTT.TLS = "cloud.example" }, "mqtt.tls"},
		{"plain ws", func(r *wire.ActivateResponse) { r.MQTT.WebSocket = "ws://cloud.example/mqtt" }, "mqtt.websocket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.mod(&r)
			b, _ := json.Marshal(r)
			got, err := DecodeActivate(b)
			if tc.want == "" {
				if err != nil || got.DeviceID != "dev-1" {
					t.Fatalf("%v", err)
				}
				return
			}
			if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrBadResponse about %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") || got.TechnicianPasscode != "" {
				t.Fatalf("the passcode leaked from a refused answer: %v", err)
			}
		})
	}
}

func TestDecodeCode(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	good := wire.CodeResponse{SessionID: "s1", ExpiresAt: now.Add(10 * time.Minute), ResendAfter: now.Add(time.Minute), Recipients: 1}
	for _, tc := range []struct {
		name string
		mod  func(*wire.CodeResponse)
		ok   bool
	}{
		{"good", func(*wire.CodeResponse) {}, true},
		{"no recipients is legal", func(r *wire.CodeResponse) { r.Recipients = 0 }, true},
		{"no session", func(r *wire.CodeResponse) { r.SessionID = "" }, false},
		{"no expiry", func(r *wire.CodeResponse) { r.ExpiresAt = time.Time{} }, false},
		{"resend after a day", func(r *wire.CodeResponse) { r.ResendAfter = now.Add(48 * time.Hour) }, false},
		{"negative recipients", func(r *wire.CodeResponse) { r.Recipients = -1 }, false},
	} {
		r := good
		tc.mod(&r)
		b, _ := json.Marshal(r)
		if _, err := DecodeCode(b); (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
	if _, err := DecodeCode([]byte(`{"session_id":"s"} {"x":1}`)); err == nil {
		t.Error("trailing data accepted")
	}
}

func TestDecodeError(t *testing.T) {
	err := DecodeError(429, []byte(`{"code":"rate_limited","message":"m","retry_after":-5}`))
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.ErrRateLimited || we.RetryAfter != 0 {
		t.Fatalf("%v", err)
	}
	err = DecodeError(503, []byte("Service Unavailable"))
	if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("%v", err)
	}
}

func FuzzDecodeCompany(f *testing.F) {
	f.Add([]byte(`{"company_id":"123456","name":"Acme","timezone":"America/Chicago"}`))
	f.Add([]byte(`{"company_id":"1","name":"\u0000","timezone":"UTC"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeCompany(b)
		if err == nil && (r.Name == "" || r.CompanyID == "" || r.Timezone == "") {
			t.Fatalf("accepted %+v", r)
		}
	})
}

func FuzzDecodeCode(f *testing.F) {
	f.Add([]byte(`{"session_id":"s1","expires_at":"2026-11-22T09:10:00Z","resend_after":"2026-11-22T09:01:00Z","recipients":2}`))
	f.Add([]byte(`{"session_id":"s1","expires_at":"0001-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeCode(b)
		if err == nil && (r.SessionID == "" || r.ExpiresAt.IsZero()) {
			t.Fatalf("accepted %+v", r)
		}
	})
}

func FuzzDecodeActivate(f *testing.F) {
	b, _ := json.Marshal(goodActivate(f, testpki.NewCA(f, "ca")))
	f.Add(b)
	f.Add([]byte(`{"device_id":"d","certificate":"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeActivate(b)
		if err != nil && r.TechnicianPasscode != "" {
			t.Fatal("refused answer kept its passcode")
		}
		if err == nil && (r.DeviceID == "" || r.Certificate == "" || r.CA == "") {
			t.Fatalf("accepted %+v", r)
		}
	})
}

func FuzzDecodeError(f *testing.F) {
	f.Add(400, []byte(`{"code":"wrong_code","message":"wrong","tries_left":3}`))
	f.Add(502, []byte("<html>"))
	f.Fuzz(func(t *testing.T, status int, b []byte) {
		err := DecodeError(status, b)
		if err == nil {
			t.Fatal("nil error")
		}
		var we *wire.Error
		if errors.As(err, &we) && (we.Code == "" || we.TriesLeft < 0 || we.RetryAfter < 0) {
			t.Fatalf("bad wire error %+v", we)
		}
	})
}
