package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"timeclock/internal/atomicfile"
	"timeclock/wire"
)

// Store keeps the identity under STATE_DIR/identity/. Its methods are safe
// for concurrent use (the agent, sync and console share one).
type Store struct {
	dir string
	mu  sync.Mutex // serialises file operations
}

// NewStore returns the store of a state directory; nothing is read yet.
func NewStore(stateDir string) *Store {
	return &Store{dir: filepath.Join(stateDir, dirName)}
}

// Dir is STATE_DIR/identity.
func (s *Store) Dir() string { return s.dir }

// Present reports whether the clock was onboarded (its manifest is there,
// sound or not), without reading it: the state file's open asks, to tell
// a lost state file from a new clock.
func (s *Store) Present() bool {
	_, err := os.Lstat(s.path(manifestFile))
	return err == nil
}

func (s *Store) path(name string) string { return filepath.Join(s.dir, name) }

// manifest is identity.json.
type manifest struct {
	Version      int               `json:"version"`
	DeviceID     string            `json:"device_id"`
	Serial       string            `json:"serial"`
	CompanyID    string            `json:"company_id"`
	CompanyName  string            `json:"company_name"`
	CloudURL     string            `json:"cloud_url"`
	MQTT         wire.Endpoints    `json:"mqtt"`
	Timezone     string            `json:"timezone"`
	Nickname     string            `json:"nickname"`
	ActivatedAt  time.Time         `json:"activated_at"`
	PasscodeHash string            `json:"passcode_hash"`
	Files        map[string]string `json:"files"` // name -> hex SHA-256
}

const manifestVersion = 1

// decodeManifest reads identity.json and checks it names a device and the
// digest of every file.
func decodeManifest(b []byte) (manifest, error) {
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("manifest: %w", err)
	}
	if m.Version != manifestVersion {
		return m, fmt.Errorf("manifest: version %d, want %d", m.Version, manifestVersion)
	}
	if m.DeviceID == "" {
		return m, errors.New("manifest: no device_id")
	}
	for _, f := range digested {
		if d, err := hex.DecodeString(m.Files[f]); err != nil || len(d) != sha256.Size {
			return m, fmt.Errorf("manifest: no valid digest for %s", f)
		}
	}
	return m, nil
}

func digest(b []byte) string {
	d := sha256.Sum256(b)
	return hex.EncodeToString(d[:])
}

// Load reads the identity. It returns ErrNotOnboarded when there is none,
// and a *TornError (errors.Is ErrTorn and ErrNotOnboarded) when the files
// do not form a whole identity; the caller logs that and calls SetAside.
func (s *Store) Load() (*Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb, err := os.ReadFile(s.path(manifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		// A key alone is an onboarding in progress; a certificate without a
		// manifest is a Save that was cut short.
		for _, f := range []string{certFile, caFile} {
			if _, err := os.Stat(s.path(f)); err == nil {
				return nil, torn("%s without %s: the last save was interrupted", f, manifestFile)
			}
		}
		return nil, ErrNotOnboarded
	}
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	m, err := decodeManifest(mb)
	if err != nil {
		return nil, torn("%v", err)
	}
	files := map[string][]byte{}
	for _, f := range digested {
		b, err := os.ReadFile(s.path(f))
		if err != nil {
			return nil, torn("%s: %v", f, err)
		}
		if digest(b) != m.Files[f] {
			return nil, torn("%s does not match the manifest's digest", f)
		}
		files[f] = b
	}
	key, err := parseKey(files[keyFile])
	if err != nil {
		return nil, torn("%v", err)
	}
	cert, err := parseCert(files[certFile])
	if err != nil {
		return nil, torn("%v", err)
	}
	id := &Identity{
		DeviceID: m.DeviceID, Serial: m.Serial, CompanyID: m.CompanyID, CompanyName: m.CompanyName,
		CloudURL: m.CloudURL, MQTT: m.MQTT, Timezone: m.Timezone, Nickname: m.Nickname,
		ActivatedAt: m.ActivatedAt, PasscodeHash: m.PasscodeHash,
		Key: key, Cert: cert, CertPEM: files[certFile], CAPEM: files[caFile],
	}
	if err := id.Check(); err != nil {
		return nil, torn("%v", err)
	}
	return id, nil
}

// Key returns the device key, making it (ECDSA P-256, from crypto/rand) and
// writing it with mode 0600 on the first call. An unreadable key file is
// replaced: no certificate can be bound to it yet.
func (s *Store) Key() (*ecdsa.PrivateKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, err := os.ReadFile(s.path(keyFile)); err == nil {
		if k, err := parseKey(b); err == nil {
			return k, nil
		}
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("identity: key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("identity: key: %w", err)
	}
	if err := atomicfile.Write(s.path(keyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	return k, nil
}

// Save writes the identity: certificate and CA first, the manifest last.
// id.Key must be the key Key returned. Saving again (a new timezone or
// nickname) rewrites the files the same way.
func (s *Store) Save(id *Identity) error {
	if err := id.Check(); err != nil {
		return fmt.Errorf("identity: save: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kb, err := os.ReadFile(s.path(keyFile))
	if err != nil {
		return fmt.Errorf("identity: save: %w", err)
	}
	if k, err := parseKey(kb); err != nil || !k.Equal(id.Key) {
		return errors.New("identity: save: the key is not the stored device key")
	}
	if err := atomicfile.Write(s.path(certFile), id.CertPEM, 0o644); err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	if err := atomicfile.Write(s.path(caFile), id.CAPEM, 0o644); err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	m := manifest{
		Version: manifestVersion, DeviceID: id.DeviceID, Serial: id.Serial, CompanyID: id.CompanyID,
		CompanyName: id.CompanyName, CloudURL: id.CloudURL, MQTT: id.MQTT, Timezone: id.Timezone,
		Nickname: id.Nickname, ActivatedAt: id.ActivatedAt, PasscodeHash: id.PasscodeHash,
		Files: map[string]string{keyFile: digest(kb), certFile: digest(id.CertPEM), caFile: digest(id.CAPEM)},
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	if err := atomicfile.Write(s.path(manifestFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	return nil
}

// Erase removes the identity, the manifest first so that an interrupted
// erase is "not onboarded", never a half identity. The key goes too: a
// disabled clock keeps no credentials.
func (s *Store) Erase() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(s.path(manifestFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("identity: erase: %w", err)
	}
	if _, err := os.Stat(s.dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := atomicfile.SyncDir(s.dir); err != nil {
		return fmt.Errorf("identity: erase: %w", err)
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("identity: erase: %w", err)
	}
	return atomicfile.SyncDir(filepath.Dir(s.dir))
}

// SetAside moves a torn identity out of the way (to identity.torn-TIME,
// kept for a technician) and returns where it went.
func (s *Store) SetAside(now time.Time) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	to := s.dir + ".torn-" + now.UTC().Format("20060102T150405.000")
	if err := os.Rename(s.dir, to); err != nil {
		return "", fmt.Errorf("identity: set aside: %w", err)
	}
	return to, atomicfile.SyncDir(filepath.Dir(s.dir))
}

func parseKey(b []byte) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("key: no PEM PRIVATE KEY")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, errors.New("key: not ECDSA P-256")
	}
	return ek, nil
}

func parseCert(b []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("certificate: no PEM CERTIFICATE")
		}
		if blk.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certificate: %w", err)
			}
			return c, nil
		}
	}
}

// ParseCertificate reads the first certificate of a PEM text.
func ParseCertificate(b []byte) (*x509.Certificate, error) { return parseCert(b) }
