package release

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

func testKey(t testing.TB, seed byte) ed25519.PrivateKey {
	t.Helper()
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func sample() Manifest {
	return Manifest{Version: "1.5.0", Arch: "linux/arm/v7", Models: []string{"rpi-devkit"}, Floor: "1.2.0", Notes: "fixes"}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	payload := []byte("#!binary")
	art, err := Sign(sample(), payload, k2)
	if err != nil {
		t.Fatal(err)
	}
	// The clock trusts two keys (rotation): the second one signed.
	h, err := Verify(art, []ed25519.PublicKey{k1.Public().(ed25519.PublicKey), k2.Public().(ed25519.PublicKey)})
	if err != nil {
		t.Fatal(err)
	}
	if h.Manifest.Version != "1.5.0" || h.Manifest.Size != int64(len(payload)) || h.KeyID != KeyID(k2.Public().(ed25519.PublicKey)) {
		t.Fatalf("head %+v", h)
	}
	if got := art[h.PayloadOffset:]; !bytes.Equal(got, payload) {
		t.Fatalf("payload at offset: %q", got)
	}
}

func TestVerifyRefuses(t *testing.T) {
	k := testKey(t, 1)
	pub := []ed25519.PublicKey{k.Public().(ed25519.PublicKey)}
	art, err := Sign(sample(), []byte("binary-v2"), k)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := Verify(art, pub)
	flip := func(i int) []byte { b := bytes.Clone(art); b[i] ^= 1; return b }
	for _, c := range []struct {
		name string
		b    []byte
		keys []ed25519.PublicKey
		want error
	}{
		{"payload byte changed", flip(len(art) - 1), pub, ErrPayload},
		{"manifest byte changed", flip(HeaderLen + 5), pub, ErrSignature},
		{"signature byte changed", flip(int(h.PayloadOffset) - 1), pub, ErrSignature},
		{"key id changed", flip(int(h.PayloadOffset) - 70), pub, ErrUntrusted},
		{"untrusted key", art, []ed25519.PublicKey{testKey(t, 9).Public().(ed25519.PublicKey)}, ErrUntrusted},
		{"no keys", art, nil, ErrUntrusted},
		{"truncated payload", art[:len(art)-2], pub, ErrPayload},
		{"extra bytes", append(bytes.Clone(art), 'x'), pub, ErrPayload},
		{"not an artifact", []byte("\x7fELF...."), pub, ErrFormat},
		{"empty", nil, pub, ErrFormat},
	} {
		if _, err := Verify(c.b, c.keys); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestSignRefusesBadManifest(t *testing.T) {
	k := testKey(t, 1)
	for _, m := range []Manifest{
		{Version: "", Arch: "linux/amd64", Models: []string{"sim"}},
		{Version: "v1", Arch: "linux/amd64", Models: []string{"sim"}},
		{Version: "1.0", Arch: "", Models: []string{"sim"}},
		{Version: "1.0", Arch: "linux/amd64"},
		{Version: "1.0", Arch: "linux/amd64", Models: []string{"has space"}},
		{Version: "1.0", Arch: "linux/amd64", Models: []string{"sim"}, Floor: "x"},
	} {
		if _, err := Sign(m, []byte("b"), k); err == nil {
			t.Errorf("%+v signed", m)
		}
	}
	if _, err := Sign(sample(), nil, k); err == nil || !strings.Contains(err.Error(), "size 0") {
		t.Errorf("empty payload: %v", err)
	}
}

func TestKeysRoundTrip(t *testing.T) {
	k := testKey(t, 3)
	k2, err := ParsePrivateKey(EncodePrivateKey(k))
	if err != nil || !k2.Equal(k) {
		t.Fatalf("private: %v", err)
	}
	p, err := ParsePublicKey(EncodePublicKey(k.Public().(ed25519.PublicKey)) + "\n")
	if err != nil || !p.Equal(k.Public()) {
		t.Fatalf("public: %v", err)
	}
	if _, err := ParsePublicKey("AAAA"); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.1", -1},
		{"1.10", "1.9", 1},
		{"1.0~rc1", "1.0", -1},
		{"1.0", "1.0.1", -1},
		{"1.0a", "1.0", 1},
		{"0.0~git20261202101330.abc1234", "0.0~git20261202111330.0001234", -1},
		{"0.0~git20261202101330.abc1234", "1.0", -1},
		{"1.01", "1.1", 0},
		{"2", "10", -1},
	} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := CompareVersions(c.b, c.a); got != -c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

// FuzzReadHead: any bytes give a head or an error, never a panic, and a
// head that verifies re-signs to the same manifest.
func FuzzReadHead(f *testing.F) {
	k := testKey(f, 1)
	pub := []ed25519.PublicKey{k.Public().(ed25519.PublicKey)}
	art, err := Sign(sample(), []byte("binary"), k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(art)
	f.Add(art[:HeaderLen+3])
	f.Add([]byte(Magic + "\x00\x00\x00\x02{}"))
	f.Add([]byte(Magic + "\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Verify(b, pub)
		if err != nil {
			return
		}
		if err := h.Manifest.Validate(); err != nil {
			t.Fatalf("verified a manifest that does not validate: %v", err)
		}
		if int64(len(b))-h.PayloadOffset != h.Manifest.Size {
			t.Fatalf("payload of %d bytes verified, manifest says %d", int64(len(b))-h.PayloadOffset, h.Manifest.Size)
		}
	})
}

func FuzzCompareVersions(f *testing.F) {
	f.Add("1.0~rc1", "1.0")
	f.Add("0.0~git1.a", "0.0~git2.b")
	f.Fuzz(func(t *testing.T, a, b string) {
		if CompareVersions(a, b) != -CompareVersions(b, a) {
			t.Fatalf("not antisymmetric: %q %q", a, b)
		}
		if CompareVersions(a, a) != 0 {
			t.Fatalf("%q != itself", a)
		}
	})
}
