package onboarding

import (
	"os"
	"path/filepath"
	"testing"

	"timeclock/internal/testpki"
	"timeclock/onboarding/netcheck"
)

// FuzzTarget: any cloud URL and CA file (a damaged PEM, a key instead of a
// certificate, nothing) give a target with a host and, when a CA was
// named, a pool from it; or an error naming the field. Never a panic, and
// never a target that trusts the system's CAs when the config named one.
func FuzzTarget(f *testing.F) {
	ca := testpki.NewCA(f, "fuzz CA")
	f.Add("https://cloud.example:18443", ca.PEM())
	f.Add("https://cloud.example", []byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Add("https://[::1]:0", []byte{})
	f.Add("://", ca.PEM())
	f.Add("https://x:99999999999999999999", ca.PEM())
	f.Fuzz(func(t *testing.T, cloudURL string, caPEM []byte) {
		file := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(file, caPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, s := range []Setup{{CloudURL: cloudURL, CloudCA: file, Ports: netcheck.DefaultPorts}, {CloudURL: cloudURL, CloudCAPEM: caPEM, Ports: netcheck.DefaultPorts}} {
			tg, err := s.Target()
			if err != nil {
				if err.Error() == "" {
					t.Fatal("an error without a message")
				}
				continue
			}
			if tg.Host == "" {
				t.Fatalf("a target without a host from %q", cloudURL)
			}
			if p := tg.Ports.HTTPS; p < 1 || p > 65535 {
				t.Fatalf("HTTPS port %d from %q", p, cloudURL)
			}
			if tg.CA == nil && (s.CloudCA != "" || len(s.CloudCAPEM) > 0) {
				t.Fatalf("a CA was named but the target trusts the system's")
			}
		}
	})
}
