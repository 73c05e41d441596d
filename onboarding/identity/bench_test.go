package identity

import (
	"crypto/x509"
	"encoding/pem"
	"testing"

	"timeclock/internal/testpki"
)

// BenchmarkActivationSave is the clock's share of an activation: a new
// ECDSA P-256 key written with fsync, the CSR, the passcode hash at its
// real work factor and the identity files with their fsyncs.
func BenchmarkActivationSave(b *testing.B) {
	ca := testpki.NewCA(b, "bench CA")
	for b.Loop() {
		s := NewStore(b.TempDir())
		key, err := s.Key()
		if err != nil {
			b.Fatal(err)
		}
		csrPEM, err := NewCSR(key, "TCBENCH00001")
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		blk, _ := pem.Decode(csrPEM)
		csr, _ := x509.ParseCertificateRequest(blk.Bytes)
		certPEM := ca.SignCSR(b, csr, "dev-bench") // the cloud's work
		b.StartTimer()
		cert, err := ParseCertificate(certPEM)
		if err != nil {
			b.Fatal(err)
		}
		hash, err := hashAt("123456", 10)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Save(&Identity{DeviceID: "dev-bench", PasscodeHash: hash, Key: key, Cert: cert, CertPEM: certPEM, CAPEM: ca.PEM()}); err != nil {
			b.Fatal(err)
		}
	}
}
