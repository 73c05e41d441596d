package mosquitto

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/cloud/pki"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", name, path, got)
	}
}

func TestGenerate(t *testing.T) {
	now := time.Now()
	ca, _, err := pki.LoadOrCreate(t.TempDir(), "test CA", true, now)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "broker")
	cfg := Config{Dir: dir, TLSAddr: ":59777", WSAddr: "127.0.0.1:59778", Hosts: []string{"cloud.example", "localhost"}, User: "mosquitto"}
	if err := Generate(ca, cfg, now); err != nil {
		t.Fatal(err)
	}
	conf, _ := os.ReadFile(filepath.Join(dir, ConfFile))
	golden(t, "mosquitto.conf", strings.ReplaceAll(string(conf), dir, "DIR"))
	acl, _ := os.ReadFile(filepath.Join(dir, ACLFile))
	golden(t, "acl", string(acl))
	for _, f := range []string{CAFile, CRLFile, ServerFile, ServerKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, PersistDir)); err != nil || !st.IsDir() {
		t.Errorf("persistence dir: %v", err)
	}
	if err := WriteClientCert(ca, dir, now); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, ClientKeyFile)); st.Mode().Perm() != 0o600 {
		t.Errorf("client key mode %v", st.Mode().Perm())
	}
	for _, bad := range []Config{
		{TLSAddr: ":1", WSAddr: ":2", Hosts: []string{"h"}},
		{Dir: dir, TLSAddr: "nonsense", WSAddr: ":2", Hosts: []string{"h"}},
		{Dir: dir, TLSAddr: ":0", WSAddr: ":2", Hosts: []string{"h"}},
		{Dir: dir, TLSAddr: ":1", WSAddr: ":2"},
	} {
		if err := Generate(ca, bad, now); err == nil {
			t.Errorf("Generate(%+v) accepted", bad)
		}
	}
}

func TestACL(t *testing.T) {
	golden(t, "acl-disabled", string(ACL([]string{"d2", "d1", "d2", "bad id\nuser x", ""})))
}
