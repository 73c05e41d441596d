package onboarding

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/internal/testpki"
	"timeclock/wire"
)

// apiServer is an HTTPS server answering the onboarding paths from a table.
type apiServer struct {
	srv    *httptest.Server
	ca     *testpki.CA
	answer map[string]func(w http.ResponseWriter, body []byte)
	got    map[string][]byte
}

func newAPIServer(t *testing.T) *apiServer {
	t.Helper()
	f := &apiServer{ca: testpki.NewCA(t, "fake cloud CA"), answer: map[string]func(http.ResponseWriter, []byte){}, got: map[string][]byte{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.got[r.URL.Path] = b
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		a, ok := f.answer[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		a(w, b)
	}))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{f.ca.Server(t, "127.0.0.1")}}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *apiServer) client(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient(ClientConfig{BaseURL: f.srv.URL, CA: f.ca.Pool(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func reply(status int, v any) func(http.ResponseWriter, []byte) {
	return func(w http.ResponseWriter, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
}

var dev = wire.Device{Serial: "TC0011223344", Model: "sim", Firmware: "dev"}

func TestCompany(t *testing.T) {
	f := newAPIServer(t)
	f.answer[wire.PathCompany] = reply(200, wire.CompanyResponse{CompanyID: "123456", Name: "Acme Builders", Timezone: "America/Chicago"})
	got, err := f.client(t).Company(context.Background(), wire.CompanyRequest{CompanyID: "123456", Device: dev})
	if err != nil || got.Name != "Acme Builders" {
		t.Fatalf("Company = %+v %v", got, err)
	}
	var sent wire.CompanyRequest
	if err := json.Unmarshal(f.got[wire.PathCompany], &sent); err != nil || sent.CompanyID != "123456" || sent.Device != dev {
		t.Fatalf("request body %s", f.got[wire.PathCompany])
	}
}

func TestCloudErrorsAreWireErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   wire.Error
	}{
		{404, wire.Error{Code: wire.ErrUnknownCompany, Message: "no company 999"}},
		{429, wire.Error{Code: wire.ErrRateLimited, Message: "slow down", RetryAfter: 120}},
		{400, wire.Error{Code: wire.ErrWrongCode, Message: "wrong code", TriesLeft: 3}},
		{409, wire.Error{Code: wire.ErrNoAdmins, Message: "no admin"}},
	} {
		f := newAPIServer(t)
		f.answer[wire.PathCompany] = reply(tc.status, tc.body)
		_, err := f.client(t).Company(context.Background(), wire.CompanyRequest{CompanyID: "999"})
		var we *wire.Error
		if !errors.As(err, &we) || *we != tc.body {
			t.Errorf("%d %s: got %v", tc.status, tc.body.Code, err)
		}
	}
}

func TestRequestCodeCarriesServerTime(t *testing.T) {
	f := newAPIServer(t)
	exp := time.Date(2026, 11, 22, 9, 10, 0, 0, time.UTC)
	f.answer[wire.PathCode] = func(w http.ResponseWriter, _ []byte) {
		w.Header().Set("Date", "Sun, 22 Nov 2026 09:00:00 GMT")
		reply(200, wire.CodeResponse{SessionID: "s-1", ExpiresAt: exp, ResendAfter: exp.Add(-9 * time.Minute), Recipients: 2})(w, nil)
	}
	got, err := f.client(t).RequestCode(context.Background(), wire.CodeRequest{CompanyID: "1", Device: dev})
	if err != nil || got.SessionID != "s-1" || got.Recipients != 2 {
		t.Fatalf("RequestCode = %+v %v", got, err)
	}
	if got.ExpiresAt.Sub(got.ServerTime) != 10*time.Minute-time.Second {
		t.Fatalf("server time %v, expires %v", got.ServerTime, got.ExpiresAt)
	}
}

func TestActivate(t *testing.T) {
	f := newAPIServer(t)
	f.answer[wire.PathActivate] = reply(200, goodActivate(t, f.ca))
	got, err := f.client(t).Activate(context.Background(), wire.ActivateRequest{SessionID: "s", Code: "123456", CSR: "x", Device: dev})
	if err != nil || got.DeviceID != "dev-1" {
		t.Fatalf("Activate = %v", err)
	}
}

func TestTransportFailures(t *testing.T) {
	f := newAPIServer(t)
	f.answer[wire.PathCompany] = reply(200, wire.CompanyResponse{CompanyID: "1", Name: "A", Timezone: "UTC"})

	// A CA that did not sign the server's certificate.
	other, _ := NewClient(ClientConfig{BaseURL: f.srv.URL, CA: testpki.NewCA(t, "other").Pool()})
	if _, err := other.Company(context.Background(), wire.CompanyRequest{}); !errors.Is(err, ErrUntrusted) {
		t.Errorf("wrong CA: %v, want ErrUntrusted", err)
	}
	// The system roots do not know a private cloud CA either.
	sys, _ := NewClient(ClientConfig{BaseURL: f.srv.URL})
	if _, err := sys.Company(context.Background(), wire.CompanyRequest{}); !errors.Is(err, ErrUntrusted) {
		t.Errorf("system roots: %v, want ErrUntrusted", err)
	}
	// A closed port.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	down, _ := NewClient(ClientConfig{BaseURL: "https://" + addr, CA: f.ca.Pool()})
	if _, err := down.Company(context.Background(), wire.CompanyRequest{}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("closed port: %v, want ErrUnreachable", err)
	}
	// A server that never answers: the timeout ends the wait.
	hang := make(chan struct{})
	defer close(hang)
	f.answer[wire.PathCode] = func(http.ResponseWriter, []byte) { <-hang }
	slow, _ := NewClient(ClientConfig{BaseURL: f.srv.URL, CA: f.ca.Pool(), Timeout: 200 * time.Millisecond})
	if _, err := slow.RequestCode(context.Background(), wire.CodeRequest{}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("hanging server: %v, want ErrUnreachable", err)
	}
}

func TestBadAnswers(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    func(http.ResponseWriter, []byte)
	}{
		{"not json", func(w http.ResponseWriter, _ []byte) { io.WriteString(w, "<html>proxy login</html>") }},
		{"html error", func(w http.ResponseWriter, _ []byte) {
			w.WriteHeader(502)
			io.WriteString(w, "<html>Bad gateway</html>")
		}},
		{"empty name", reply(200, wire.CompanyResponse{CompanyID: "1", Timezone: "UTC"})},
		{"bad zone", reply(200, wire.CompanyResponse{CompanyID: "1", Name: "A", Timezone: "Mars/Base"})},
		{"too big", func(w http.ResponseWriter, _ []byte) {
			io.WriteString(w, `{"name":"`+strings.Repeat("a", maxBody)+`"}`)
		}},
		{"redirect", func(w http.ResponseWriter, _ []byte) {
			w.Header().Set("Location", "https://elsewhere/")
			w.WriteHeader(302)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAPIServer(t)
			f.answer[wire.PathCompany] = tc.h
			_, err := f.client(t).Company(context.Background(), wire.CompanyRequest{})
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("got %v, want ErrBadResponse", err)
			}
		})
	}
}

func TestUnsetClockUsesCloudTime(t *testing.T) {
	f := newAPIServer(t)
	f.answer[wire.PathCompany] = reply(200, wire.CompanyResponse{CompanyID: "1", Name: "A", Timezone: "UTC"})
	fc := clock.NewFake(time.Unix(60, 0)) // a clock without RTC after boot
	c, _ := NewClient(ClientConfig{BaseURL: f.srv.URL, CA: f.ca.Pool(), Clock: fc})
	if _, err := c.Company(context.Background(), wire.CompanyRequest{}); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("1970 clock: %v, want the certificate refused", err)
	}
	c.SetCloudTime(time.Now(), fc.Now())
	if _, err := c.Company(context.Background(), wire.CompanyRequest{}); err != nil {
		t.Fatalf("with the cloud's time: %v", err)
	}
}

func TestNewRefusesPlainHTTP(t *testing.T) {
	for _, u := range []string{"http://cloud.example", "https://", "::"} {
		if _, err := NewClient(ClientConfig{BaseURL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}
