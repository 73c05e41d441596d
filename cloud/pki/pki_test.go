package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newCA(t *testing.T) (*CA, string) {
	t.Helper()
	dir := t.TempDir()
	ca, created, err := LoadOrCreate(dir, "test CA", true, now)
	if err != nil || !created {
		t.Fatalf("LoadOrCreate: %v created=%v", err, created)
	}
	return ca, dir
}

func TestCACreateLoad(t *testing.T) {
	ca, dir := newCA(t)
	st, err := os.Stat(filepath.Join(dir, CAKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v mode %v", err, st.Mode())
	}
	again, created, err := LoadOrCreate(dir, "test CA", true, now)
	if err != nil || created || !again.Cert.Equal(ca.Cert) {
		t.Fatalf("second LoadOrCreate made a new CA (created=%v, err=%v)", created, err)
	}
	if _, err := Create(dir, "x", now); err == nil {
		t.Fatal("Create replaced an existing CA")
	}
	if _, err := Load(t.TempDir()); !errors.Is(err, ErrNoCA) {
		t.Fatalf("Load of an empty dir: %v", err)
	}
	if _, _, err := LoadOrCreate(t.TempDir(), "x", false, now); !errors.Is(err, ErrNoCA) {
		t.Fatalf("LoadOrCreate without create: %v", err)
	}
}

func TestCAKeyMismatchRefused(t *testing.T) {
	_, dir := newCA(t)
	_, other := newCA(t)
	key, _ := os.ReadFile(filepath.Join(other, CAKeyFile))
	os.WriteFile(filepath.Join(dir, CAKeyFile), key, 0o600)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Fatalf("mismatched key: %v", err)
	}
}

func TestServerCert(t *testing.T) {
	ca, dir := newCA(t)
	hosts := []string{"localhost", "127.0.0.1", "::1", "cloud.example"}
	c, err := ca.ServerCert(dir, hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(c.Certificate[0])
	for _, h := range hosts {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: ca.Pool(), CurrentTime: now}); err != nil {
			t.Errorf("server cert for %s: %v", h, err)
		}
	}
	again, _ := ca.ServerCert(dir, hosts[:2], now.Add(24*time.Hour))
	if string(again.Certificate[0]) != string(c.Certificate[0]) {
		t.Error("a fitting server cert was reissued")
	}
	other, _ := ca.ServerCert(dir, []string{"localhost", "new.example"}, now)
	if string(other.Certificate[0]) == string(c.Certificate[0]) {
		t.Error("a new public host did not reissue the cert")
	}
	late, _ := ca.ServerCert(dir, []string{"localhost", "new.example"}, now.Add(ServerValidity-ServerRenewBefore+time.Hour))
	if string(late.Certificate[0]) == string(other.Certificate[0]) {
		t.Error("a cert near its end was not reissued")
	}
}

func csrPEM(t testing.TB, key any) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "ignored"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func p256(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseCSR(t *testing.T) {
	good := csrPEM(t, p256(t))
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	blk, _ := pem.Decode([]byte(good))
	tampered := append([]byte(nil), blk.Bytes...)
	tampered[len(tampered)-3] ^= 0x40
	for _, tc := range []struct {
		name, pem, want string
	}{
		{"good", good, ""},
		{"empty", "", "not PEM"},
		{"garbage", "hello", "not PEM"},
		{"certificate block", strings.Replace(good, "CERTIFICATE REQUEST", "CERTIFICATE", 2), "want CERTIFICATE REQUEST"},
		{"not DER", "-----BEGIN CERTIFICATE REQUEST-----\naGVsbG8=\n-----END CERTIFICATE REQUEST-----\n", "bad certificate request"},
		{"RSA", csrPEM(t, rsaKey), "want ECDSA P-256"},
		{"P-384", csrPEM(t, p384), "curve P-384"},
		{"Ed25519", csrPEM(t, edKey), "want ECDSA P-256"},
		{"bad signature", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: tampered})), "signature"},
		{"too long", good + strings.Repeat("x", maxCSR), "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCSR(tc.pem)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrBadCSR) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrBadCSR mentioning %q", err, tc.want)
			}
		})
	}
}

func TestSignClient(t *testing.T) {
	ca, _ := newCA(t)
	key := p256(t)
	csr, err := ParseCSR(csrPEM(t, key))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := ca.SignClient(csr, "3f9a2c7e41b0d5e8", now)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := parseCert([]byte(cc.PEM))
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != "3f9a2c7e41b0d5e8" {
		t.Errorf("CN %q", leaf.Subject.CommonName)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client cert does not verify for client auth: %v", err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("client cert is good for server auth too")
	}
	if !leaf.PublicKey.(*ecdsa.PublicKey).Equal(&key.PublicKey) {
		t.Error("certificate is not for the CSR's key")
	}
	if cc.Serial == "" || leaf.SerialNumber.Text(16) != cc.Serial {
		t.Errorf("serial %q vs %x", cc.Serial, leaf.SerialNumber)
	}
}

func FuzzParseCSR(f *testing.F) {
	f.Add(csrPEM(f, p256(f)))
	f.Add("")
	f.Add("-----BEGIN CERTIFICATE REQUEST-----\nMA==\n-----END CERTIFICATE REQUEST-----\n")
	f.Fuzz(func(t *testing.T, s string) {
		csr, err := ParseCSR(s)
		if err != nil {
			if !errors.Is(err, ErrBadCSR) {
				t.Fatalf("error does not wrap ErrBadCSR: %v", err)
			}
			return
		}
		if _, ok := csr.PublicKey.(*ecdsa.PublicKey); !ok {
			t.Fatal("accepted a non-ECDSA key")
		}
	})
}

func TestIssueClientAndCRL(t *testing.T) {
	ca, _ := newCA(t)
	certPEM, keyPEM, err := ca.IssueClient("timeclock-cloud", now)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil || leaf.Subject.CommonName != "timeclock-cloud" {
		t.Fatalf("client cert: %v (CN %q)", err, leaf.Subject.CommonName)
	}
	serial := fmt.Sprintf("%x", leaf.SerialNumber)
	crlPEM, err := ca.CRL([]string{serial, "0a"}, now)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(crlPEM)
	crl, err := x509.ParseRevocationList(blk.Bytes)
	if err != nil || crl.CheckSignatureFrom(ca.Cert) != nil {
		t.Fatalf("crl: %v", err)
	}
	if len(crl.RevokedCertificateEntries) != 2 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Fatalf("crl entries %+v", crl.RevokedCertificateEntries)
	}
	if !crl.NextUpdate.After(now.Add(365 * 24 * time.Hour)) {
		t.Errorf("crl next update %v is soon", crl.NextUpdate)
	}
	if _, err := ca.CRL([]string{"xyz"}, now); err == nil {
		t.Error("a non-hex serial was accepted")
	}
}
