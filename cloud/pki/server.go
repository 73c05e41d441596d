package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"timeclock/internal/atomicfile"
)

// The server certificate's files in the data directory.
const (
	ServerFile    = "server.pem"
	ServerKeyFile = "server-key.pem"
)

// ServerValidity is how long an issued server certificate lasts; it is
// reissued at start when less than ServerRenewBefore is left.
const (
	ServerValidity    = 397 * 24 * time.Hour
	ServerRenewBefore = 30 * 24 * time.Hour
)

// ServerCert returns the cloud's TLS certificate for hosts (names or IP
// addresses), reusing the one in dir when it is this CA's, covers every host
// and is not near its end; otherwise it issues and writes a new one.
func (ca *CA) ServerCert(dir string, hosts []string, now time.Time) (tls.Certificate, error) {
	certFile, keyFile := filepath.Join(dir, ServerFile), filepath.Join(dir, ServerKeyFile)
	if c, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil && ca.serverCertFits(c, hosts, now) {
		return c, nil
	}
	certPEM, keyPEM, err := ca.issueServer(hosts, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := atomicfile.Write(keyFile, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, fmt.Errorf("server key: %w", err)
	}
	if err := atomicfile.Write(certFile, certPEM, 0o644); err != nil {
		return tls.Certificate{}, fmt.Errorf("server cert: %w", err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("server cert: %w", err)
	}
	return c, nil
}

func (ca *CA) serverCertFits(c tls.Certificate, hosts []string, now time.Time) bool {
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil || leaf.CheckSignatureFrom(ca.Cert) != nil {
		return false
	}
	if now.Before(leaf.NotBefore) || leaf.NotAfter.Sub(now) < ServerRenewBefore {
		return false
	}
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func (ca *CA) issueServer(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("server key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: hosts[0], Organization: []string{"timeclock"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(ServerValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("server cert: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("server key: %w", err)
	}
	var chain bytes.Buffer
	pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	return chain.Bytes(), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// LoadOrCreate loads the CA from dir, or creates one there when create is
// set and none exists.
func LoadOrCreate(dir, name string, create bool, now time.Time) (ca *CA, created bool, err error) {
	ca, err = Load(dir)
	if err == nil || !create || !isNoCA(err) {
		return ca, false, err
	}
	if _, serr := os.Stat(filepath.Join(dir, CAKeyFile)); serr == nil {
		// A key without its certificate: a crash during Create. Start over.
		os.Remove(filepath.Join(dir, CAKeyFile))
	}
	ca, err = Create(dir, name, now)
	return ca, err == nil, err
}

func isNoCA(err error) bool { return errors.Is(err, ErrNoCA) }
