package onboarding

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"timeclock/internal/testpki"
	"timeclock/onboarding/identity"
	"timeclock/onboarding/netcheck"
)

// onboarded saves an identity in dir as activation leaves it.
func onboarded(t *testing.T, dir string) *identity.Identity {
	t.Helper()
	ca := testpki.NewCA(t, "test CA")
	s := identity.NewStore(dir)
	key, err := s.Key()
	if err != nil {
		t.Fatal(err)
	}
	csrPEM, err := identity.NewCSR(key, "SN-1")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(csrPEM)
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := ca.SignCSR(t, csr, "dev-1")
	cert, err := identity.ParseCertificate(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	id := &identity.Identity{DeviceID: "dev-1", Serial: "SN-1", Timezone: "UTC", Nickname: "Front door",
		Key: key, Cert: cert, CertPEM: certPEM, CAPEM: ca.PEM()}
	if err := s.Save(id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestKeeper(t *testing.T) {
	dir := t.TempDir()
	k := NewKeeper(dir)
	if err := k.Update(func(id *identity.Identity) { id.Nickname = "x" }); err == nil || !strings.Contains(err.Error(), "not onboarded") {
		t.Fatalf("update before onboarding: %v", err)
	}
	k.SetStep("company_entry")
	if id, step := k.Current(); id != nil || step != "company_entry" {
		t.Fatalf("while onboarding: %v %q", id, step)
	}
	saved := onboarded(t, dir)
	k.Adopt(saved)
	if id, step := k.Current(); id != saved || step != "" {
		t.Fatalf("after adopting: %v %q", id, step)
	}

	if err := k.Update(func(id *identity.Identity) { id.Nickname = "Back door" }); err != nil {
		t.Fatal(err)
	}
	if got := k.Identity(); got.Nickname != "Back door" || saved.Nickname != "Front door" {
		t.Fatalf("after the update: current %q, the adopted copy %q", got.Nickname, saved.Nickname)
	}
	loaded, err := k.Store().Load()
	if err != nil || loaded.Nickname != "Back door" {
		t.Fatalf("stored after the update: %v %v", loaded, err)
	}

	if err := k.Erase(); err != nil {
		t.Fatal(err)
	}
	if k.Identity() != nil {
		t.Fatal("identity kept in memory after Erase")
	}
	if _, err := k.Store().Load(); !errors.Is(err, identity.ErrNotOnboarded) {
		t.Fatalf("load after Erase: %v", err)
	}
}

// The target's errors name the config field at fault.
func TestTarget(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, testpki.NewCA(t, "cloud CA").PEM(), 0o600)
	ports := netcheck.DefaultPorts
	for _, tc := range []struct {
		url, ca, err string
	}{
		{"https://", "", `cloud_url "https://": no host`},
		{"https://cloud.example", filepath.Join(dir, "missing.pem"), "cloud_ca: open"},
		{"https://cloud.example", notPEM, "cloud_ca " + notPEM + ": no PEM certificate in it"},
	} {
		_, err := Setup{CloudURL: tc.url, CloudCA: tc.ca, Ports: ports}.Target()
		if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
			t.Errorf("%s, %s: %v, want %q", tc.url, tc.ca, err, tc.err)
		}
	}
	target, err := Setup{CloudURL: "https://cloud.example:8443/x", CloudCA: caFile, Ports: ports}.Target()
	withURLPort := ports
	withURLPort.HTTPS = 8443 // the port the cloud URL names wins
	if err != nil || target.Host != "cloud.example" || target.Ports != withURLPort || target.CA == nil {
		t.Fatalf("target %+v %v", target, err)
	}
	if target, _ := (Setup{CloudURL: "https://cloud.example", Ports: ports}).Target(); target.Ports != ports {
		t.Fatalf("ports %+v without a port in the URL, want %+v", target.Ports, ports)
	}
	if target, _ := (Setup{CloudURL: "https://cloud.example", Ports: ports}).Target(); target.CA != nil {
		t.Fatal("a CA pool without cloud_ca: the system roots must be trusted")
	}
}

func TestChecker(t *testing.T) {
	c := Setup{Network: []string{"eth0", "wlan0"}, WiFi: []string{"wlan0"}}.Checker(netcheck.Target{Host: "cloud.example"})
	want := []netcheck.Iface{{Name: "eth0"}, {Name: "wlan0", WiFi: true}}
	if len(c.Ifaces) != 2 || c.Ifaces[0] != want[0] || c.Ifaces[1] != want[1] || c.Target.Host != "cloud.example" {
		t.Fatalf("checker %+v", c)
	}
}
