package synctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"timeclock/cloud/pki"
)

// Issue makes a key and a client certificate for deviceID signed by ca,
// as activation does, and returns a TLS config for the broker ("localhost")
// and the certificate's serial.
func Issue(t testing.TB, ca *pki.CA, deviceID string) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, _ := x509.ParseCertificateRequest(der)
	c, err := ca.SignClient(csr, deviceID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost",
		Certificates: []tls.Certificate{{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: key, Leaf: c.Cert}}}, c.Serial
}
