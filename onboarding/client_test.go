package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/internal/fakecloud"
	"timeclock/internal/testpki"
	"timeclock/wire"
)

// client is a client of api.
func client(t *testing.T, api *fakecloud.API) *Client {
	t.Helper()
	c, err := NewClient(ClientConfig{BaseURL: api.URL, CA: api.CA.Pool(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

var dev = wire.Device{Serial: "TC0011223344", Model: "sim", Firmware: "dev"}

func TestCompany(t *testing.T) {
	f := fakecloud.NewAPI(t, nil)
	f.Answer(wire.PathCompany, fakecloud.Reply(200, wire.CompanyResponse{CompanyID: "123456", Name: "Acme Builders", Timezone: "America/Chicago"}))
	got, err := client(t, f).Company(context.Background(), wire.CompanyRequest{CompanyID: "123456", Device: dev})
	if err != nil || got.Name != "Acme Builders" {
		t.Fatalf("Company = %+v %v", got, err)
	}
	var sent wire.CompanyRequest
	bodies := f.Requests(wire.PathCompany)
	if len(bodies) != 1 || json.Unmarshal(bodies[0], &sent) != nil || sent.CompanyID != "123456" || sent.Device != dev {
		t.Fatalf("request bodies %q", bodies)
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
		f := fakecloud.NewAPI(t, nil)
		f.Answer(wire.PathCompany, fakecloud.Reply(tc.status, tc.body))
		_, err := client(t, f).Company(context.Background(), wire.CompanyRequest{CompanyID: "999"})
		var we *wire.Error
		if !errors.As(err, &we) || *we != tc.body {
			t.Errorf("%d %s: got %v", tc.status, tc.body.Code, err)
		}
	}
}

func TestRequestCodeCarriesServerTime(t *testing.T) {
	f := fakecloud.NewAPI(t, nil)
	exp := time.Date(2026, 11, 22, 9, 10, 0, 0, time.UTC)
	f.Answer(wire.PathCode, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "Sun, 22 Nov 2026 09:00:00 GMT")
		fakecloud.Reply(200, wire.CodeResponse{SessionID: "s-1", ExpiresAt: exp, ResendAfter: exp.Add(-9 * time.Minute), Recipients: 2})(w, r)
	})
	got, err := client(t, f).RequestCode(context.Background(), wire.CodeRequest{CompanyID: "1", Device: dev})
	if err != nil || got.SessionID != "s-1" || got.Recipients != 2 {
		t.Fatalf("RequestCode = %+v %v", got, err)
	}
	if got.ExpiresAt.Sub(got.ServerTime) != 10*time.Minute-time.Second {
		t.Fatalf("server time %v, expires %v", got.ServerTime, got.ExpiresAt)
	}
}

func TestActivate(t *testing.T) {
	f := fakecloud.NewAPI(t, nil)
	f.Answer(wire.PathActivate, fakecloud.Reply(200, goodActivate(t, f.CA)))
	got, err := client(t, f).Activate(context.Background(), wire.ActivateRequest{SessionID: "s", Code: "123456", CSR: "x", Device: dev})
	if err != nil || got.DeviceID != "dev-1" {
		t.Fatalf("Activate = %v", err)
	}
}

func TestTransportFailures(t *testing.T) {
	f := fakecloud.NewAPI(t, nil)
	f.Answer(wire.PathCompany, fakecloud.Reply(200, wire.CompanyResponse{CompanyID: "1", Name: "A", Timezone: "UTC"}))

	// A CA that did not sign the server's certificate.
	other, _ := NewClient(ClientConfig{BaseURL: f.URL, CA: testpki.NewCA(t, "other").Pool()})
	if _, err := other.Company(context.Background(), wire.CompanyRequest{}); !errors.Is(err, ErrUntrusted) {
		t.Errorf("wrong CA: %v, want ErrUntrusted", err)
	}
	// The system roots do not know a private cloud CA either.
	sys, _ := NewClient(ClientConfig{BaseURL: f.URL})
	if _, err := sys.Company(context.Background(), wire.CompanyRequest{}); !errors.Is(err, ErrUntrusted) {
		t.Errorf("system roots: %v, want ErrUntrusted", err)
	}
	// A closed port.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	down, _ := NewClient(ClientConfig{BaseURL: "https://" + addr, CA: f.CA.Pool()})
	if _, err := down.Company(context.Background(), wire.CompanyRequest{}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("closed port: %v, want ErrUnreachable", err)
	}
	// A server that never answers: the timeout ends the wait.
	hang := make(chan struct{})
	defer close(hang)
	f.Answer(wire.PathCode, func(http.ResponseWriter, *http.Request) { <-hang })
	slow, _ := NewClient(ClientConfig{BaseURL: f.URL, CA: f.CA.Pool(), Timeout: 200 * time.Millisecond})
	if _, err := slow.RequestCode(context.Background(), wire.CodeRequest{}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("hanging server: %v, want ErrUnreachable", err)
	}
}

func TestBadAnswers(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    func(http.ResponseWriter, *http.Request)
	}{
		{"not json", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "<html>proxy login</html>") }},
		{"html error", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(502)
			io.WriteString(w, "<html>Bad gateway</html>")
		}},
		{"empty name", fakecloud.Reply(200, wire.CompanyResponse{CompanyID: "1", Timezone: "UTC"})},
		{"bad zone", fakecloud.Reply(200, wire.CompanyResponse{CompanyID: "1", Name: "A", Timezone: "Mars/Base"})},
		{"too big", func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, `{"name":"`+strings.Repeat("a", maxBody)+`"}`)
		}},
		{"redirect", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", "https://elsewhere/")
			w.WriteHeader(302)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fakecloud.NewAPI(t, nil)
			f.Answer(wire.PathCompany, tc.h)
			_, err := client(t, f).Company(context.Background(), wire.CompanyRequest{})
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("got %v, want ErrBadResponse", err)
			}
		})
	}
}

func TestUnsetClockUsesCloudTime(t *testing.T) {
	f := fakecloud.NewAPI(t, nil)
	f.Answer(wire.PathCompany, fakecloud.Reply(200, wire.CompanyResponse{CompanyID: "1", Name: "A", Timezone: "UTC"}))
	fc := clock.NewFake(time.Unix(60, 0)) // a clock without RTC after boot
	c, _ := NewClient(ClientConfig{BaseURL: f.URL, CA: f.CA.Pool(), Clock: fc})
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
