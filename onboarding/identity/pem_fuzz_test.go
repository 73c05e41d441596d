package identity

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadPEM: whatever the key, certificate and CA files hold (with the
// manifest's digests matching them, so the PEM parsing is what is tested),
// Load gives a whole identity (its key is its certificate's, the CA pool
// has a certificate) or a torn one; it never panics.
func FuzzLoadPEM(f *testing.F) {
	s, _ := onboarded(f)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(s.Dir(), name))
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	key, cert, ca := read(keyFile), read(certFile), read(caFile)
	manifestJSON := read(manifestFile)
	f.Add(key, cert, ca)
	f.Add(cert, key, ca)
	f.Add(key, append(append([]byte{}, ca...), cert...), cert)
	f.Add(key, cert, []byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n\n-----END PRIVATE KEY-----\n"), cert, ca)
	f.Add([]byte{}, []byte{}, []byte{})
	st := NewStore(f.TempDir()) // one directory, its files rewritten for each input
	if err := os.MkdirAll(st.Dir(), 0o700); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key, cert, ca []byte) {
		var m manifest
		if err := json.Unmarshal(manifestJSON, &m); err != nil {
			t.Fatal(err)
		}
		for name, b := range map[string][]byte{keyFile: key, certFile: cert, caFile: ca} {
			m.Files[name] = digest(b)
			if err := os.WriteFile(filepath.Join(st.Dir(), name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		mb, _ := json.Marshal(m)
		if err := os.WriteFile(filepath.Join(st.Dir(), manifestFile), mb, 0o600); err != nil {
			t.Fatal(err)
		}
		id, err := st.Load()
		switch {
		case err == nil:
			pub, ok := id.Cert.PublicKey.(*ecdsa.PublicKey)
			if !ok || !pub.Equal(&id.Key.PublicKey) {
				t.Fatal("loaded an identity whose certificate is not its key's")
			}
			if _, err := id.CAPool(); err != nil {
				t.Fatalf("loaded an identity without a CA: %v", err)
			}
		case !errors.Is(err, ErrTorn):
			t.Fatalf("Load: %v, want a whole or a torn identity", err)
		}
	})
}
