package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReleaseKeygenSignVerify(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "timeclockd")
	os.WriteFile(bin, []byte("a binary"), 0o755)
	key := filepath.Join(dir, "release.key")
	var out, errb bytes.Buffer
	if c := releaseCommand([]string{"keygen", "--out", key}, &out, &errb); c != 0 {
		t.Fatalf("keygen: %d %s", c, errb.String())
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	var pub string
	for _, l := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(l, "public key:"); ok {
			pub = strings.TrimSpace(v)
		}
	}
	if c := releaseCommand([]string{"keygen", "--out", key}, &out, &errb); c != 1 || !strings.Contains(errb.String(), "not overwriting") {
		t.Fatalf("keygen over a key: %d %s", c, errb.String())
	}
	art := filepath.Join(dir, "v2.tcu")
	errb.Reset()
	if c := releaseCommand([]string{"sign", "--key", key, "--version", "2.0", "--arch", "linux/arm/v7", "--model", "rpi-devkit", "--floor", "1.0", "--out", art, bin}, &out, &errb); c != 0 {
		t.Fatalf("sign: %d %s", c, errb.String())
	}
	out.Reset()
	if c := releaseCommand([]string{"verify", "--pubkey", pub, art}, &out, &errb); c != 0 || !strings.Contains(out.String(), "valid: version 2.0 for linux/arm/v7") {
		t.Fatalf("verify: %d %s %s", c, out.String(), errb.String())
	}
	// Against the development key, the same artifact is untrusted.
	errb.Reset()
	if c := releaseCommand([]string{"verify", art}, &out, &errb); c != 1 || !strings.Contains(errb.String(), "does not trust") {
		t.Fatalf("verify with the dev key: %d %s", c, errb.String())
	}
	errb.Reset()
	if c := releaseCommand([]string{"sign", "--dev", "--version", "v2", "--arch", "linux/amd64", "--model", "sim", "--out", art, bin}, &out, &errb); c != 1 || !strings.Contains(errb.String(), "starts with a digit") {
		t.Fatalf("bad version: %d %s", c, errb.String())
	}
}
