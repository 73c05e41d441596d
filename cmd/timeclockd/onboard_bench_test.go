package main

import (
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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
		sock := filepath.Join(dir, "sim.sock")
		b.StartTimer()
		start := time.Now()
		p := daemontest.Start(b, bin, "--state-dir", dir, "--sim-socket", sock, "--cloud", "https://localhost:1")
		s := daemontest.DialSim(b, sock, 10*time.Second)
		s.WaitScreen("Badge or PIN", 10*time.Second)
		rec.Add(time.Since(start))
		p.Cmd.Process.Signal(syscall.SIGTERM)
		p.Wait(b, 10*time.Second)
	}
	rec.Report(b)
}
