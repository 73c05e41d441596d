package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoadCA: whatever ca.pem and ca-key.pem hold (damage, a key that is
// not the certificate's, another kind of key, several blocks), Load either
// refuses with an error or gives a CA that can sign a clock's certificate
// that its own pool verifies. It never panics.
func FuzzLoadCA(f *testing.F) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	dir := f.TempDir()
	if _, err := Create(dir, "fuzz CA", now); err != nil {
		f.Fatal(err)
	}
	cert, _ := os.ReadFile(filepath.Join(dir, CAFile))
	key, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
	f.Add(cert, key)
	f.Add(cert, cert)
	f.Add(key, key)
	f.Add(cert, []byte("-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n"), key)
	f.Add([]byte{}, []byte{})
	csrKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, csrKey)
	csr, _ := ParseCSR(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})))
	// The harness reaches the signing: the good pair loads and signs.
	if ca, err := Load(dir); err != nil {
		f.Fatal(err)
	} else if _, err := ca.SignClient(csr, "0123456789abcdef", now); err != nil {
		f.Fatal(err)
	}
	d := f.TempDir() // one directory, its files rewritten for each input
	f.Fuzz(func(t *testing.T, certPEM, keyPEM []byte) {
		if err := os.WriteFile(filepath.Join(d, CAFile), certPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, CAKeyFile), keyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		ca, err := Load(d)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		at := ca.Cert.NotBefore.Add(time.Minute)
		cc, err := ca.SignClient(csr, "0123456789abcdef", at)
		if err != nil {
			return // a CA that loads may still refuse (expired, its key's kind): an error, not a panic
		}
		blk, _ := pem.Decode([]byte(cc.PEM))
		if blk == nil {
			t.Fatalf("SignClient gave no PEM: %q", cc.PEM)
		}
		leaf, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: at.Add(time.Minute), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Fatalf("the loaded CA signed a certificate its own pool refuses: %v", err)
		}
	})
}
