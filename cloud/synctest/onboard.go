package synctest

import (
	"bytes"
	"cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"timeclock/wire"
)

// Identity is what a clock keeps from its activation.
type Identity struct {
	DeviceID  string
	TLS       *tls.Config // its certificate and key, the cloud's CA, server name localhost
	Endpoints wire.Endpoints
	Nickname  string
}

// TLSURL is the paho broker URL of MQTT over TLS from the endpoints.
func (id Identity) TLSURL() string { return "tls://" + id.Endpoints.TLS }

var mailCode = regexp.MustCompile(`(?m)^    (\d{6})\r?$`)

// Onboard activates a clock with this serial through a dev cloud's API at
// base (https://localhost:PORT), reading the code from the dev outbox as
// an administrator would from the mail.
func Onboard(t testing.TB, client *http.Client, base, companyID, outbox, serial string) Identity {
	t.Helper()
	dev := wire.Device{Serial: serial, Model: "sim", Firmware: "test"}
	post := func(path string, in, out any) {
		t.Helper()
		b, _ := json.Marshal(in)
		resp, err := client.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var cr wire.CodeResponse
	post(wire.PathCode, wire.CodeRequest{CompanyID: companyID, Device: dev}, &cr)
	code := codeFor(t, outbox, serial)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	var act wire.ActivateResponse
	post(wire.PathActivate, wire.ActivateRequest{SessionID: cr.SessionID, Code: code, CSR: csr, Device: dev}, &act)
	blk, _ := pem.Decode([]byte(act.Certificate))
	if blk == nil {
		t.Fatal("activation: no certificate")
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(act.CA)) {
		t.Fatal("activation: no CA")
	}
	return Identity{DeviceID: act.DeviceID, Endpoints: act.MQTT, Nickname: act.Nickname,
		TLS: &tls.Config{RootCAs: roots, ServerName: "localhost",
			Certificates: []tls.Certificate{{Certificate: [][]byte{blk.Bytes}, PrivateKey: key, Leaf: leaf}}}}
}

// codeFor reads the code from the newest outbox mail about serial.
func codeFor(t testing.TB, outbox, serial string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
	// Names have the second only; the write time orders mails within one.
	mod := func(f string) int64 {
		st, err := os.Stat(f)
		if err != nil {
			return 0
		}
		return st.ModTime().UnixNano()
	}
	slices.SortFunc(files, func(a, b string) int { return cmp.Compare(mod(a), mod(b)) })
	for i := len(files) - 1; i >= 0; i-- {
		b, err := os.ReadFile(files[i])
		if err != nil || !strings.Contains(string(b), serial) {
			continue
		}
		if m := mailCode.FindSubmatch(b); m != nil {
			return string(m[1])
		}
	}
	t.Fatal(fmt.Sprintf("no code mail about %s in %s", serial, outbox))
	return ""
}
