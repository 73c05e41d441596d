// Package releases is the cloud's side of over-the-air updates: the store
// of signed release artifacts (checked against the release keys the cloud
// trusts when uploaded), which clocks an administrator assigned a release
// to, and each clock's update state as it reports it (offered,
// downloading with a percentage, installing, trial, committed, rolled back
// or refused with the clock's reason). It keeps its own files under the
// data directory: the artifacts, and one JSON index written atomically.
package releases

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"timeclock/internal/atomicfile"
	"timeclock/release"
	"timeclock/wire"
)

// Release is one uploaded artifact.
type Release struct {
	ID         string    `json:"id"`
	Version    string    `json:"version"`
	Arch       string    `json:"arch"`
	Models     []string  `json:"models"`
	Floor      string    `json:"floor,omitempty"`
	Notes      string    `json:"notes,omitempty"`
	Size       int64     `json:"size"`   // bytes of the artifact
	SHA256     string    `json:"sha256"` // of the binary, from the manifest
	KeyID      string    `json:"key_id"`
	UploadedAt time.Time `json:"uploaded_at"`
	UploadedBy string    `json:"uploaded_by"`
}

// Device is one clock's update, as the cloud knows it.
type Device struct {
	DeviceID   string    `json:"device_id"`
	CompanyID  string    `json:"company_id"`
	Release    string    `json:"release,omitempty"` // assigned or last reported
	Target     string    `json:"target,omitempty"`  // the release's version
	State      string    `json:"state,omitempty"`   // wire.Update*
	Percent    int       `json:"percent,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Running    string    `json:"running,omitempty"` // the version at the last report
	Slot       string    `json:"slot,omitempty"`
	Arch       string    `json:"arch,omitempty"` // the platform it reported
	AssignedBy string    `json:"assigned_by,omitempty"`
	AssignedAt time.Time `json:"assigned_at,omitzero"`
	Reported   time.Time `json:"reported,omitzero"`
}

type index struct {
	Releases []Release         `json:"releases"`
	Devices  map[string]Device `json:"devices"`
}

// Store is the releases and the clocks' update states.
type Store struct {
	dir  string
	keys []ed25519.PublicKey
	mu   sync.Mutex
	idx  index
}

// Errors callers turn into answers.
var (
	ErrUnknownRelease = errors.New("no such release")
	ErrRefused        = errors.New("artifact refused")
)

// Open opens (or makes) the store in dir; keys are the release keys an
// upload must be signed with.
func Open(dir string, keys []ed25519.PublicKey) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("releases: %w", err)
	}
	s := &Store{dir: dir, keys: keys, idx: index{Devices: map[string]Device{}}}
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err == nil {
		if err := json.Unmarshal(b, &s.idx); err != nil {
			return nil, fmt.Errorf("releases: index: %w", err)
		}
		if s.idx.Devices == nil {
			s.idx.Devices = map[string]Device{}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("releases: %w", err)
	}
	return s, nil
}

func (s *Store) save() error {
	b, err := json.MarshalIndent(s.idx, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(s.dir, "index.json"), b, 0o600)
}

// Add checks an artifact (format, signature by a trusted key, binary) and
// stores it. The same artifact again returns the release stored before.
func (s *Store) Add(artifact []byte, by string, now time.Time) (Release, error) {
	h, err := release.Verify(artifact, s.keys)
	if err != nil {
		return Release{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	sum := sha256.Sum256(artifact)
	m := h.Manifest
	r := Release{ID: "r" + hex.EncodeToString(sum[:6]), Version: m.Version, Arch: m.Arch, Models: m.Models, Floor: m.Floor,
		Notes: m.Notes, Size: int64(len(artifact)), SHA256: m.SHA256, KeyID: h.KeyID, UploadedAt: now.UTC(), UploadedBy: by}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.idx.Releases {
		if x.ID == r.ID {
			return x, nil
		}
	}
	if err := atomicfile.Write(s.ArtifactPath(r.ID), artifact, 0o600); err != nil {
		return Release{}, err
	}
	s.idx.Releases = append(s.idx.Releases, r)
	if err := s.save(); err != nil {
		s.idx.Releases = s.idx.Releases[:len(s.idx.Releases)-1]
		return Release{}, err
	}
	return r, nil
}

// ArtifactPath is where a release's artifact is.
func (s *Store) ArtifactPath(id string) string { return filepath.Join(s.dir, id+".tcu") }

// Releases lists the releases, newest upload first.
func (s *Store) Releases() []Release {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.idx.Releases)
	sort.SliceStable(out, func(i, j int) bool { return out[i].UploadedAt.After(out[j].UploadedAt) })
	return out
}

// Release returns one release.
func (s *Store) Release(id string) (Release, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.idx.Releases {
		if r.ID == id {
			return r, nil
		}
	}
	return Release{}, fmt.Errorf("%w: %s", ErrUnknownRelease, id)
}

// Target is a clock an administrator may update.
type Target struct {
	DeviceID, CompanyID, Model string
}

// Assign offers a release to the clocks. A clock whose model the release
// is not for is refused with the reason; the others are offered it (their
// state "offered" until they report).
func (s *Store) Assign(id string, targets []Target, by string, now time.Time) (map[string]string, error) {
	r, err := s.Release(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	skipped := map[string]string{}
	for _, t := range targets {
		if t.Model != "" && !slices.Contains(r.Models, release.AnyModel) && !slices.Contains(r.Models, t.Model) {
			skipped[t.DeviceID] = fmt.Sprintf("release %s is for %v, this clock is a %s", r.Version, r.Models, t.Model)
			continue
		}
		d := s.idx.Devices[t.DeviceID]
		d.DeviceID, d.CompanyID = t.DeviceID, t.CompanyID
		d.Release, d.Target, d.State, d.Percent, d.Reason = r.ID, r.Version, wire.UpdateOffered, 0, ""
		d.AssignedBy, d.AssignedAt = by, now.UTC()
		s.idx.Devices[t.DeviceID] = d
	}
	return skipped, s.save()
}

// Report stores a clock's report and returns the offer it should act on
// (nil: none), and whether the update's state changed.
func (s *Store) Report(companyID, deviceID string, r wire.UpdateReport, now time.Time) (*wire.UpdateOffer, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.idx.Devices[deviceID]
	if !ok {
		d = Device{DeviceID: deviceID, CompanyID: companyID}
	}
	before := d
	d.Running, d.Slot, d.Arch, d.Reported = r.Version, r.Slot, r.Arch, now.UTC()
	if r.Release != "" && (r.Release == d.Release || d.Release == "") {
		d.Release, d.State, d.Percent, d.Reason = r.Release, r.State, r.Percent, r.Reason
		if d.Target == "" {
			for _, x := range s.idx.Releases {
				if x.ID == r.Release {
					d.Target = x.Version
				}
			}
		}
	}
	s.idx.Devices[deviceID] = d
	if err := s.save(); err != nil {
		return nil, false, err
	}
	changed := before.State != d.State || before.Release != d.Release || before.Reason != d.Reason || before.Running != d.Running
	switch d.State {
	case wire.UpdateOffered, wire.UpdateDownloading, wire.UpdateFailed:
	default:
		return nil, changed, nil
	}
	for _, x := range s.idx.Releases {
		if x.ID == d.Release {
			return &wire.UpdateOffer{Release: x.ID, Version: x.Version, Size: x.Size}, changed, nil
		}
	}
	return nil, changed, nil
}

// Devices returns the update states of a company's clocks, by device ID.
func (s *Store) Devices(companyID string) map[string]Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Device{}
	for id, d := range s.idx.Devices {
		if d.CompanyID == companyID {
			out[id] = d
		}
	}
	return out
}
