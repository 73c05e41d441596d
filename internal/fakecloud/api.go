package fakecloud

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"timeclock/internal/testpki"
	"timeclock/onboarding/netcheck"
	"timeclock/wire"
)

// What the onboarding API answers by default: one company, one code, one
// device.
const (
	CompanyID   = "482913"
	CompanyName = "Acme Builders"
	Timezone    = "America/Chicago" // the company's, and the device's at activation
	SessionID   = "sess-9"
	Code        = "739164" // the code "mailed" to the administrators
	DeviceID    = "dev-77"
	Nickname    = "Front door"
	Passcode    = "tech-551234" // the technician passcode activation hands out
)

// APIOpts configure an API; nil takes the defaults.
type APIOpts struct {
	// Now is the cloud's clock: the code's expiry, the activation time and
	// every answer's Date header. Nil is time.Now.
	Now func() time.Time
	// MQTT are the endpoints activation hands out; zero is the API's own
	// MQTT ports, which accept connections and close them.
	MQTT wire.Endpoints
}

// API is the cloud's onboarding API on loopback, as the clock reaches it:
// the HTTPS API (the paths of package wire, with a certificate of its own
// test CA), the plain HTTP port with the cloud's time, and two MQTT ports
// that accept and close connections, so the network check passes. It
// answers like the cloud for one company (CompanyID, code Code), records
// every request body, and a test can replace the answer of any path.
type API struct {
	// CA signs the HTTPS certificate and the devices' certificates.
	CA *testpki.CA
	// URL is the HTTPS base URL, https://127.0.0.1:port.
	URL string
	// Ports are the listening ports: HTTP (time), HTTPS (the API), MQTT and
	// MQTT over WebSocket.
	Ports netcheck.Ports

	t    testing.TB
	now  func() time.Time
	mqtt wire.Endpoints

	mu      sync.Mutex
	answers map[string]http.HandlerFunc // guarded by mu; by path, replacing the defaults
	got     map[string][][]byte         // guarded by mu; request bodies by path, in order
}

// NewAPI starts an onboarding API on free loopback ports; it stops when the
// test ends.
func NewAPI(t testing.TB, opts *APIOpts) *API {
	t.Helper()
	if opts == nil {
		opts = &APIOpts{}
	}
	a := &API{CA: testpki.NewCA(t, "fake cloud CA"), t: t, now: opts.Now, mqtt: opts.MQTT,
		answers: map[string]http.HandlerFunc{}, got: map[string][][]byte{}}
	if a.now == nil {
		a.now = time.Now
	}
	api := httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	api.Config.ErrorLog = log.New(io.Discard, "", 0)
	api.TLS = &tls.Config{Certificates: []tls.Certificate{a.CA.Server(t, "127.0.0.1")}}
	api.StartTLS()
	t.Cleanup(api.Close)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", a.now().UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(plain.Close)
	a.URL = api.URL
	a.Ports = netcheck.Ports{HTTP: port(plain.Listener.Addr()), HTTPS: port(api.Listener.Addr()),
		MQTT: a.closingListener(), MQTTWS: a.closingListener()}
	if a.mqtt == (wire.Endpoints{}) {
		a.mqtt = wire.Endpoints{TLS: "127.0.0.1:" + strconv.Itoa(a.Ports.MQTT)}
	}
	return a
}

func port(addr net.Addr) int { return addr.(*net.TCPAddr).Port }

// closingListener listens on a free loopback port and closes every
// connection it accepts, until the test ends.
func (a *API) closingListener() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	a.t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return port(ln.Addr())
}

// Answer replaces the answer of path with h (nil restores the default).
// h may read the request body; it was recorded already.
func (a *API) Answer(path string, h http.HandlerFunc) {
	a.mu.Lock()
	if h == nil {
		delete(a.answers, path)
	} else {
		a.answers[path] = h
	}
	a.mu.Unlock()
}

// Reply is an answer with a status and a JSON body.
func Reply(status int, v any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
}

// Requests returns the bodies of the requests to path, in order.
func (a *API) Requests(path string) [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][]byte(nil), a.got[path]...)
}

// CodeRequests returns the code requests received, in order.
func (a *API) CodeRequests() []wire.CodeRequest { return decodeAll[wire.CodeRequest](a, wire.PathCode) }

// Activations returns the activation requests received, in order.
func (a *API) Activations() []wire.ActivateRequest {
	return decodeAll[wire.ActivateRequest](a, wire.PathActivate)
}

func decodeAll[T any](a *API, path string) []T {
	var out []T
	for _, b := range a.Requests(path) {
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			a.t.Errorf("fakecloud: request to %s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

// Activation is the cloud's answer to an activation with csr: a
// certificate for DeviceID signed by the CA, and the rest of the identity.
func (a *API) Activation(csr *x509.CertificateRequest) wire.ActivateResponse {
	return wire.ActivateResponse{
		DeviceID: DeviceID, Certificate: string(a.CA.SignCSR(a.t, csr, DeviceID)), CA: string(a.CA.PEM()),
		MQTT: a.mqtt, Timezone: Timezone, Nickname: Nickname, TechnicianPasscode: Passcode, ActivatedAt: a.now(),
	}
}

func (a *API) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.got[r.URL.Path] = append(a.got[r.URL.Path], body)
	h := a.answers[r.URL.Path]
	a.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Date", a.now().UTC().Format(http.TimeFormat))
	if h != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
		return
	}
	switch r.URL.Path {
	case wire.PathCompany:
		var req wire.CompanyRequest
		json.Unmarshal(body, &req)
		if req.CompanyID != CompanyID {
			Reply(http.StatusNotFound, wire.Error{Code: wire.ErrUnknownCompany, Message: "no such company"})(w, r)
			return
		}
		Reply(http.StatusOK, wire.CompanyResponse{CompanyID: CompanyID, Name: CompanyName, Timezone: Timezone})(w, r)
	case wire.PathCode:
		now := a.now()
		Reply(http.StatusOK, wire.CodeResponse{SessionID: SessionID, ExpiresAt: now.Add(10 * time.Minute), ResendAfter: now.Add(time.Minute), Recipients: 1})(w, r)
	case wire.PathActivate:
		var req wire.ActivateRequest
		json.Unmarshal(body, &req)
		if req.Code != Code {
			Reply(http.StatusBadRequest, wire.Error{Code: wire.ErrWrongCode, TriesLeft: 4})(w, r)
			return
		}
		var csr *x509.CertificateRequest
		blk, _ := pem.Decode([]byte(req.CSR))
		if blk != nil {
			csr, _ = x509.ParseCertificateRequest(blk.Bytes)
		}
		if csr == nil {
			Reply(http.StatusBadRequest, wire.Error{Code: wire.ErrBadCSR})(w, r)
			return
		}
		Reply(http.StatusOK, a.Activation(csr))(w, r)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}
