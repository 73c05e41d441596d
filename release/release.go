// Package release owns the over-the-air update artifact: its manifest, its
// byte format, signing it with the vendor's Ed25519 key, and checking one
// (signature against the trusted keys, size and SHA-256 of the binary) before
// anything is installed; and the version order a clock uses for its floor.
// The signing tool, the cloud (which checks an upload) and the clock share it;
// it imports nothing of ours and only the standard library.
//
// An artifact is one file:
//
//	magic   "TCUPDATE1\n"                  10 bytes
//	mlen    manifest length, big endian     4 bytes (at most MaxManifest)
//	manifest JSON (Manifest)                mlen bytes
//	keyid   first 8 bytes of SHA-256 of the signing public key
//	sig     Ed25519 over magic|mlen|manifest 64 bytes
//	payload the agent binary                manifest.size bytes
//
// The signature covers the manifest, and the manifest names the payload's
// size and SHA-256, so a verified manifest pins every byte of the file.
package release

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Magic starts every artifact.
const Magic = "TCUPDATE1\n"

// Limits on what Parse accepts.
const (
	MaxManifest = 64 << 10
	MaxPayload  = 256 << 20
	maxNotes    = 16 << 10
	maxField    = 128
)

// HeaderLen is the length of everything before the manifest.
const HeaderLen = len(Magic) + 4

// sigLen is the key ID and the signature after the manifest.
const sigLen = 8 + ed25519.SignatureSize

// AnyModel in Manifest.Models makes an artifact for every model.
const AnyModel = "*"

// Manifest describes the binary an artifact carries.
type Manifest struct {
	Format  int    `json:"format"`  // 1
	Version string `json:"version"` // what `timeclockd --version` reports
	// Arch is the platform the binary runs on: Platform() of the build,
	// e.g. "linux/arm/v7", "linux/arm64", "linux/amd64".
	Arch string `json:"arch"`
	// Models are the board models it is for (board names), or AnyModel.
	Models []string `json:"models"`
	Size   int64    `json:"size"`   // bytes of the payload
	SHA256 string   `json:"sha256"` // hex, of the payload
	// Floor is the lowest version this release may replace: a clock
	// running an older version refuses it (it needs an intermediate
	// release first, e.g. for a state migration).
	Floor string `json:"floor,omitempty"`
	Notes string `json:"notes,omitempty"` // release notes, for administrators
}

// Validate checks the manifest's own fields.
func (m Manifest) Validate() error {
	var errs []error
	if m.Format != 1 {
		errs = append(errs, fmt.Errorf("format %d: this clock reads format 1", m.Format))
	}
	if err := checkVersion(m.Version); err != nil {
		errs = append(errs, fmt.Errorf("version: %w", err))
	}
	if m.Floor != "" {
		if err := checkVersion(m.Floor); err != nil {
			errs = append(errs, fmt.Errorf("floor: %w", err))
		}
	}
	if !validField(m.Arch) {
		errs = append(errs, fmt.Errorf("arch %q: want e.g. linux/arm/v7", m.Arch))
	}
	if len(m.Models) == 0 || len(m.Models) > 64 {
		errs = append(errs, errors.New("models: name 1-64 board models, or \"*\""))
	}
	for _, x := range m.Models {
		if !validField(x) {
			errs = append(errs, fmt.Errorf("model %q: not a board name", x))
		}
	}
	if m.Size <= 0 || m.Size > MaxPayload {
		errs = append(errs, fmt.Errorf("size %d: want 1-%d bytes", m.Size, MaxPayload))
	}
	if b, err := hex.DecodeString(m.SHA256); err != nil || len(b) != sha256.Size {
		errs = append(errs, errors.New("sha256: want 64 hex digits"))
	}
	if len(m.Notes) > maxNotes {
		errs = append(errs, fmt.Errorf("notes: %d bytes, at most %d", len(m.Notes), maxNotes))
	}
	return errors.Join(errs...)
}

// ForModel reports whether the artifact is for the board model.
func (m Manifest) ForModel(model string) bool {
	return slices.Contains(m.Models, AnyModel) || slices.Contains(m.Models, model)
}

func validField(s string) bool {
	if s == "" || len(s) > maxField {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func checkVersion(v string) error {
	if !validField(v) {
		return fmt.Errorf("%q: 1-%d printable characters, no spaces", v, maxField)
	}
	if v[0] < '0' || v[0] > '9' {
		return fmt.Errorf("%q: starts with a digit", v)
	}
	return nil
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// ParsePublicKey reads a public key in base64 (what `release keygen` prints).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key: want %d bytes in base64", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// ParsePrivateKey reads a private key: its 32-byte seed in base64.
func ParsePrivateKey(s string) (ed25519.PrivateKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.SeedSize {
		return nil, fmt.Errorf("private key: want a %d-byte seed in base64", ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(b), nil
}

// EncodePublicKey is the inverse of ParsePublicKey.
func EncodePublicKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// EncodePrivateKey is the inverse of ParsePrivateKey.
func EncodePrivateKey(k ed25519.PrivateKey) string {
	return base64.StdEncoding.EncodeToString(k.Seed())
}

// Sign builds an artifact: m's Size and SHA256 are set from payload, m is
// validated, then signed with key.
func Sign(m Manifest, payload []byte, key ed25519.PrivateKey) ([]byte, error) {
	m.Format = 1
	m.Size = int64(len(payload))
	s := sha256.Sum256(payload)
	m.SHA256 = hex.EncodeToString(s[:])
	if err := m.Validate(); err != nil {
		return nil, err
	}
	mj, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if len(mj) > MaxManifest {
		return nil, fmt.Errorf("manifest: %d bytes, at most %d", len(mj), MaxManifest)
	}
	var out bytes.Buffer
	out.WriteString(Magic)
	binary.Write(&out, binary.BigEndian, uint32(len(mj)))
	out.Write(mj)
	sig := ed25519.Sign(key, out.Bytes())
	id, _ := hex.DecodeString(KeyID(key.Public().(ed25519.PublicKey)))
	out.Write(id)
	out.Write(sig)
	out.Write(payload)
	return out.Bytes(), nil
}

// Errors a check returns, wrapped with the detail; a clock reports them.
var (
	ErrFormat    = errors.New("not an update artifact")
	ErrSignature = errors.New("signature not valid")
	ErrUntrusted = errors.New("signed by a key this clock does not trust")
	ErrPayload   = errors.New("binary does not match its manifest")
)

// Head is an artifact's verified manifest and where its payload starts.
type Head struct {
	Manifest Manifest
	KeyID    string
	// PayloadOffset is the byte offset of the binary in the artifact.
	PayloadOffset int64
}

// ReadHead reads and checks an artifact's head from r: the format, the
// manifest, and its signature by one of the trusted keys. It reads no
// further than the head.
func ReadHead(r io.Reader, trusted []ed25519.PublicKey) (Head, error) {
	var h Head
	pre := make([]byte, HeaderLen)
	if _, err := io.ReadFull(r, pre); err != nil {
		return h, fmt.Errorf("%w: %d-byte header: %v", ErrFormat, HeaderLen, err)
	}
	if string(pre[:len(Magic)]) != Magic {
		return h, fmt.Errorf("%w: wrong magic", ErrFormat)
	}
	n := binary.BigEndian.Uint32(pre[len(Magic):])
	if n == 0 || n > MaxManifest {
		return h, fmt.Errorf("%w: manifest of %d bytes (1-%d)", ErrFormat, n, MaxManifest)
	}
	mj := make([]byte, int(n)+sigLen)
	if _, err := io.ReadFull(r, mj); err != nil {
		return h, fmt.Errorf("%w: manifest and signature cut short: %v", ErrFormat, err)
	}
	sig := mj[n+8:]
	kid := hex.EncodeToString(mj[n : n+8])
	mj = mj[:n]
	h.KeyID = kid
	var key ed25519.PublicKey
	for _, k := range trusted {
		if KeyID(k) == kid {
			key = k
			break
		}
	}
	if key == nil {
		return h, fmt.Errorf("%w (key %s)", ErrUntrusted, kid)
	}
	if !ed25519.Verify(key, append(pre, mj...), sig) {
		return h, fmt.Errorf("%w (key %s)", ErrSignature, kid)
	}
	dec := json.NewDecoder(bytes.NewReader(mj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h.Manifest); err != nil {
		return h, fmt.Errorf("%w: manifest: %v", ErrFormat, err)
	}
	if dec.More() {
		return h, fmt.Errorf("%w: manifest: data after the JSON object", ErrFormat)
	}
	if err := h.Manifest.Validate(); err != nil {
		return h, fmt.Errorf("%w: manifest: %v", ErrFormat, err)
	}
	h.PayloadOffset = int64(HeaderLen) + int64(n) + sigLen
	return h, nil
}

// CheckPayload reads the payload from r to its end and checks its size and
// SHA-256 against the manifest, writing it to w as it goes (w may be nil).
func (h Head) CheckPayload(r io.Reader, w io.Writer) error {
	hash := sha256.New()
	dst := io.Writer(hash)
	if w != nil {
		dst = io.MultiWriter(hash, w)
	}
	n, err := io.Copy(dst, io.LimitReader(r, h.Manifest.Size+1))
	if err != nil {
		return err
	}
	if n != h.Manifest.Size {
		return fmt.Errorf("%w: %d bytes, the manifest says %d", ErrPayload, n, h.Manifest.Size)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != h.Manifest.SHA256 {
		return fmt.Errorf("%w: SHA-256 %s, the manifest says %s", ErrPayload, got[:16], h.Manifest.SHA256[:16])
	}
	return nil
}

// Verify checks a whole artifact in memory and returns its manifest.
func Verify(b []byte, trusted []ed25519.PublicKey) (Head, error) {
	r := bytes.NewReader(b)
	h, err := ReadHead(r, trusted)
	if err != nil {
		return h, err
	}
	return h, h.CheckPayload(r, nil)
}

// Platform names what a binary runs on, as Manifest.Arch: "linux/amd64",
// "linux/arm64", "linux/arm/v7" (GOARM only for arm).
func Platform(goos, goarch, goarm string) string {
	if goarch == "arm" {
		if goarm == "" {
			goarm = "7"
		}
		return goos + "/arm/v" + strings.TrimSuffix(strings.TrimSuffix(goarm, ",softfloat"), ",hardfloat")
	}
	return goos + "/" + goarch
}

// DevKey is the development signing key (`timeclock-cloud release sign
// --dev`). Its seed is public, in this source: only a clock whose config
// names DevPublicKey among its update keys (the simulated clock's) trusts
// what it signs; the package's release keys never include it.
func DevKey() ed25519.PrivateKey {
	s := sha256.Sum256([]byte("timeclock development release key: public, never trusted by a production clock"))
	return ed25519.NewKeyFromSeed(s[:])
}

// DevPublicKey is DevKey's public key in base64.
func DevPublicKey() string { return EncodePublicKey(DevKey().Public().(ed25519.PublicKey)) }
