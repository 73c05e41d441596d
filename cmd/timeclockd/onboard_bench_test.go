package main

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"timeclock/agent/store"
	"timeclock/internal/daemontest"
	"timeclock/internal/latency"
	"timeclock/internal/testpki"
	"timeclock/onboarding/identity"
)

// onboardedStateDir makes a state directory holding an identity, as
// activation leaves it.
func onboardedStateDir(b *testing.B, ca *testpki.CA) string {
	dir := b.TempDir()
	s := identity.NewStore(dir)
	key, err := s.Key()
	if err != nil {
		b.Fatal(err)
	}
	csrPEM, _ := identity.NewCSR(key, "TCBENCH00001")
	blk, _ := pem.Decode(csrPEM)
	csr, _ := x509.ParseCertificateRequest(blk.Bytes)
	certPEM := ca.SignCSR(b, csr, "dev-bench")
	cert, _ := identity.ParseCertificate(certPEM)
	hash, _ := identity.HashPasscode("123456")
	if err := s.Save(&identity.Identity{DeviceID: "dev-bench", Timezone: "America/Chicago", Nickname: "bench",
		PasscodeHash: hash, Key: key, Cert: cert, CertPEM: certPEM, CAPEM: ca.PEM()}); err != nil {
		b.Fatal(err)
	}
	// An onboarded clock has its state file (without one, its identity
	// makes the start say "storage lost").
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	return dir
}

// BenchmarkStartToIdleOnboarded measures an onboarded clock with a cloud
// configured from exec to the idle screen: the identity is loaded and
// checked (digests, key, certificate) on the way.
func BenchmarkStartToIdleOnboarded(b *testing.B) {
	bin := daemontest.Build(b, "timeclock/cmd/timeclockd")
	ca := testpki.NewCA(b, "bench CA")
	var rec latency.Recorder
	for b.Loop() {
		b.StopTimer()
		dir := onboardedStateDir(b, ca)
		b.StartTimer()
		startToIdle(b, &rec, bin, dir, 10*time.Second, "--cloud", "https://localhost:1")
	}
	rec.Report(b)
}
