package identity

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"timeclock/internal/testpki"
	"timeclock/wire"
)

const passcode = "83412907"

func TestMain(m *testing.M) {
	passcodeCost = 4 // bcrypt.MinCost: the work factor is not what these tests check
	os.Exit(m.Run())
}

// onboarded makes a store with a saved identity, as activation does.
func onboarded(t testing.TB) (*Store, *Identity) {
	t.Helper()
	s := NewStore(t.TempDir())
	key, err := s.Key()
	if err != nil {
		t.Fatal(err)
	}
	csrPEM, err := NewCSR(key, "TC0011223344")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(csrPEM)
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil || csr.Subject.CommonName != "TC0011223344" || csr.CheckSignature() != nil {
		t.Fatalf("csr: %v %v", err, csr.Subject)
	}
	ca := testpki.NewCA(t, "cloud CA")
	certPEM := ca.SignCSR(t, csr, "dev-42")
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := HashPasscode(passcode)
	if err != nil {
		t.Fatal(err)
	}
	id := &Identity{
		DeviceID: "dev-42", Serial: "TC0011223344", CompanyID: "123456", CompanyName: "Acme",
		CloudURL: "https://cloud.example", MQTT: wire.Endpoints{TLS: "cloud.example:59777", WebSocket: "wss://cloud.example:59778/mqtt"},
		Timezone: "America/Chicago", Nickname: "Clock 1", ActivatedAt: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC),
		PasscodeHash: hash, Key: key, Cert: cert, CertPEM: certPEM, CAPEM: ca.PEM(),
	}
	if err := s.Save(id); err != nil {
		t.Fatal(err)
	}
	return s, id
}

func TestNotOnboarded(t *testing.T) {
	s := NewStore(t.TempDir())
	if _, err := s.Load(); !errors.Is(err, ErrNotOnboarded) || errors.Is(err, ErrTorn) {
		t.Fatalf("empty store: %v", err)
	}
	// A key alone is an onboarding in progress, not a torn identity.
	if _, err := s.Key(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); !errors.Is(err, ErrNotOnboarded) || errors.Is(err, ErrTorn) {
		t.Fatalf("key only: %v", err)
	}
}

func TestKeyIsMadeOnceWithMode0600(t *testing.T) {
	s := NewStore(t.TempDir())
	k1, err := s.Key()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := s.Key()
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("second Key() gave another key (%v)", err)
	}
	fi, err := os.Stat(filepath.Join(s.Dir(), keyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v, want 0600", fi.Mode().Perm(), err)
	}
	di, _ := os.Stat(s.Dir())
	if di.Mode().Perm() != 0o700 {
		t.Errorf("identity dir mode %v, want 0700", di.Mode().Perm())
	}
	// A damaged key file (no certificate bound to it yet) is replaced.
	os.WriteFile(filepath.Join(s.Dir(), keyFile), []byte("junk"), 0o600)
	if k3, err := s.Key(); err != nil || k3.Equal(k1) {
		t.Fatalf("damaged key: %v", err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s, want := onboarded(t)
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.DeviceID != "dev-42" || got.Timezone != "America/Chicago" || got.Nickname != "Clock 1" || got.MQTT != want.MQTT ||
		got.CompanyName != "Acme" || !got.ActivatedAt.Equal(want.ActivatedAt) || !got.Key.Equal(want.Key) {
		t.Fatalf("loaded %+v", got)
	}
	if !got.VerifyPasscode(passcode) || got.VerifyPasscode("00000000") || got.VerifyPasscode("") {
		t.Fatal("passcode verification wrong")
	}
	if got.Location().String() != "America/Chicago" {
		t.Errorf("location %v", got.Location())
	}
	if _, err := got.CAPool(); err != nil {
		t.Error(err)
	}
	if c := got.TLSCertificate(); c.PrivateKey == nil || len(c.Certificate) != 1 {
		t.Error("TLS certificate incomplete")
	}
	// Saving again (a confirmed timezone) keeps it whole.
	got.Timezone = "Europe/Paris"
	if err := s.Save(got); err != nil {
		t.Fatal(err)
	}
	if again, err := s.Load(); err != nil || again.Timezone != "Europe/Paris" {
		t.Fatalf("after update: %v %v", again, err)
	}
}

// TestSecretsNeverStoredOrPrinted: the passcode is only hashed on disk, and
// no way of printing or logging an identity shows the key or the passcode.
func TestSecretsNeverStoredOrPrinted(t *testing.T) {
	s, id := onboarded(t)
	ents, _ := os.ReadDir(s.Dir())
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(s.Dir(), e.Name()))
		if bytes.Contains(b, []byte(passcode)) {
			t.Errorf("%s holds the passcode", e.Name())
		}
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(id.Key)
	d := id.Key.D.String()
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("activated", "identity", id)
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("activated", "identity", id)
	for _, out := range []string{fmt.Sprint(id), fmt.Sprintf("%+v", id), fmt.Sprintf("%#v", id), logBuf.String()} {
		if strings.Contains(out, d) || strings.Contains(out, passcode) || strings.Contains(out, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))) {
			t.Errorf("secret printed: %s", out)
		}
		if !strings.Contains(out, "dev-42") {
			t.Errorf("output lacks the device ID: %s", out)
		}
	}
}

func TestTornIdentityDetected(t *testing.T) {
	for _, tc := range []struct {
		name string
		harm func(dir string)
	}{
		{"manifest lost", func(dir string) { os.Remove(filepath.Join(dir, manifestFile)) }},
		{"manifest cut", func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, manifestFile))
			os.WriteFile(filepath.Join(dir, manifestFile), b[:len(b)/2], 0o600)
		}},
		{"cert changed", func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, certFile))
			b[len(b)/2] ^= 1
			os.WriteFile(filepath.Join(dir, certFile), b, 0o644)
		}},
		{"ca missing", func(dir string) { os.Remove(filepath.Join(dir, caFile)) }},
		{"key replaced", func(dir string) {
			os.Remove(filepath.Join(dir, keyFile))
			NewStore(filepath.Dir(dir)).Key()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := onboarded(t)
			tc.harm(s.Dir())
			_, err := s.Load()
			if !errors.Is(err, ErrTorn) || !errors.Is(err, ErrNotOnboarded) {
				t.Fatalf("Load = %v, want a torn identity", err)
			}
			var te *TornError
			if !errors.As(err, &te) || te.Reason == "" {
				t.Fatalf("no reason: %v", err)
			}
			to, err := s.SetAside(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			if err != nil || !strings.Contains(to, "identity.torn-20260102T030405") {
				t.Fatalf("SetAside = %q %v", to, err)
			}
			if _, err := s.Load(); !errors.Is(err, ErrNotOnboarded) || errors.Is(err, ErrTorn) {
				t.Fatalf("after SetAside: %v", err)
			}
		})
	}
}

func TestSaveRefusesAForeignCertificate(t *testing.T) {
	s, id := onboarded(t)
	other := NewStore(t.TempDir())
	k, _ := other.Key()
	id2 := *id
	id2.Key = k
	if err := s.Save(&id2); err == nil {
		t.Fatal("saved a certificate that is not for the key")
	}
	id3 := *id
	id3.DeviceID = "dev-43"
	if err := s.Save(&id3); err == nil || !strings.Contains(err.Error(), "CN") {
		t.Fatalf("saved a certificate for another device: %v", err)
	}
}

func TestErase(t *testing.T) {
	s, _ := onboarded(t)
	if err := s.Erase(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir()); !os.IsNotExist(err) {
		t.Fatalf("identity dir still there: %v", err)
	}
	if _, err := s.Load(); !errors.Is(err, ErrNotOnboarded) || errors.Is(err, ErrTorn) {
		t.Fatalf("after erase: %v", err)
	}
	if err := s.Erase(); err != nil {
		t.Fatalf("second erase: %v", err)
	}
}

func TestVerifyPasscodeMalformed(t *testing.T) {
	cheap, _ := hashAt("x", 4)
	expensive := strings.Replace(cheap, "$04$", "$14$", 1) // more work than the clock allows
	for _, h := range []string{"", "plain", "pbkdf2-sha256$x$a$b", "$2a$99$abcdefghijklmnopqrstuu", "md5$1$a$b", expensive} {
		if VerifyPasscode(h, "") {
			t.Errorf("%q matched", h)
		}
	}
	h1, _ := HashPasscode("x")
	h2, _ := HashPasscode("x")
	if h1 == h2 {
		t.Error("hashes are not salted")
	}
}

func FuzzVerifyPasscode(f *testing.F) {
	h, _ := HashPasscode("1234")
	f.Add(h, "1234")
	f.Add("$2a$04$abcdefghijklmnopqrstuu", "")
	f.Fuzz(func(t *testing.T, hash, pass string) {
		if VerifyPasscode(hash, pass) && hash != h {
			t.Fatalf("%q matched %q", hash, pass)
		}
	})
}

func FuzzDecodeManifest(f *testing.F) {
	s, _ := onboarded(f)
	if b, err := os.ReadFile(filepath.Join(s.Dir(), manifestFile)); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"version":1,"device_id":"d","files":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeManifest(b)
		if err == nil && (m.DeviceID == "" || len(m.Files) < len(digested)) {
			t.Fatalf("accepted %+v", m)
		}
	})
}

func TestDeviceSerial(t *testing.T) {
	piInfo := "processor\t: 0\nHardware\t: BCM2835\nRevision\t: c03112\nSerial\t\t: 10000000abcdef01\nModel\t\t: Raspberry Pi 4\n"
	for _, tc := range []struct {
		name  string
		fs    fstest.MapFS
		board bool
		want  string
	}{
		{"cpuinfo", fstest.MapFS{"proc/cpuinfo": {Data: []byte(piInfo)}, "etc/machine-id": {Data: []byte("0123456789abcdef0123456789abcdef\n")}}, true, "10000000abcdef01"},
		{"device tree", fstest.MapFS{"proc/cpuinfo": {Data: []byte("Serial : 0000000000000000\n")},
			"sys/firmware/devicetree/base/serial-number": {Data: []byte("SN-77731\x00")}}, true, "SN-77731"},
		{"machine-id", fstest.MapFS{"etc/machine-id": {Data: []byte("0123456789abcdef0123456789abcdef\n")}}, true, "0123456789abcdef0123456789abcdef"},
		{"sim ignores the host", fstest.MapFS{"proc/cpuinfo": {Data: []byte(piInfo)}}, false, "TC"},
		{"nothing", fstest.MapFS{}, true, "TC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			got, err := DeviceSerial(SerialOpts{FS: tc.fs, StateDir: dir, Board: tc.board})
			if err != nil || !strings.HasPrefix(got, tc.want) {
				t.Fatalf("serial %q %v, want %q", got, err, tc.want)
			}
			again, _ := DeviceSerial(SerialOpts{FS: tc.fs, StateDir: dir, Board: tc.board})
			if again != got {
				t.Fatalf("serial changed: %q then %q", got, again)
			}
			if tc.want == "TC" && len(got) != 14 {
				t.Fatalf("generated serial %q", got)
			}
		})
	}
	a, _ := DeviceSerial(SerialOpts{FS: fstest.MapFS{}, StateDir: t.TempDir()})
	b, _ := DeviceSerial(SerialOpts{FS: fstest.MapFS{}, StateDir: t.TempDir()})
	if a == b {
		t.Error("two sim clocks got the same serial")
	}
}

func FuzzCPUInfoSerial(f *testing.F) {
	f.Add("Serial\t\t: 10000000abcdef01\n")
	f.Add("Serial: \x00\n")
	f.Add("processor : 0\n")
	f.Fuzz(func(t *testing.T, s string) {
		got := CPUInfoSerial(s)
		if got != "" {
			if c, ok := CleanSerial(got); !ok || c != got {
				t.Fatalf("returned an unclean serial %q", got)
			}
		}
	})
}
