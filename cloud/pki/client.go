package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"time"
)

// ClientValidity is how long a clock's certificate lasts. Clocks live on
// walls for years and renewal is not built yet, so it is long.
const ClientValidity = 5 * 365 * 24 * time.Hour

// clockSkew backdates NotBefore: the broker may check with a clock a little
// behind the one that signed.
const clockSkew = time.Hour

// ClientCert is a signed clock certificate.
type ClientCert struct {
	PEM    string
	Serial string // hex
	Cert   *x509.Certificate
}

// SignClient issues a client-auth certificate for the CSR's key with the
// device ID as CN (the subject the clock asked for is ignored: the cloud
// names the device).
func (ca *CA) SignClient(csr *x509.CertificateRequest, deviceID string, now time.Time) (ClientCert, error) {
	serial, err := newSerial()
	if err != nil {
		return ClientCert{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: deviceID, Organization: []string{"timeclock devices"}},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     now.Add(ClientValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, csr.PublicKey, ca.key)
	if err != nil {
		return ClientCert{}, fmt.Errorf("sign client: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return ClientCert{}, fmt.Errorf("sign client: %w", err)
	}
	return ClientCert{
		PEM:    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		Serial: fmt.Sprintf("%x", serial),
		Cert:   cert,
	}, nil
}

// IssueClient makes a key and a client certificate named name for the
// cloud's own use (its MQTT client at an external broker). Unlike a clock's
// key, this one is made here: it never leaves the cloud's host.
func (ca *CA) IssueClient(name string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("client key: %w", err)
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		return nil, nil, fmt.Errorf("client csr: %w", err)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, nil, fmt.Errorf("client csr: %w", err)
	}
	c, err := ca.SignClient(csr, name, now)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("client key: %w", err)
	}
	return []byte(c.PEM), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}
