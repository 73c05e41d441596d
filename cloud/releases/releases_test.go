package releases

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"timeclock/release"
	"timeclock/wire"
)

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func art(t *testing.T, version string, models ...string) []byte {
	b, err := release.Sign(release.Manifest{Version: version, Arch: "linux/arm64", Models: models}, []byte("bin "+version), release.DevKey())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStore(t *testing.T) {
	dir := t.TempDir()
	keys := []ed25519.PublicKey{release.DevKey().Public().(ed25519.PublicKey)}
	s, err := Open(dir, keys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(art(t, "2.0", "sim"), "a@x", t0); err != nil {
		t.Fatal(err)
	}
	bad := art(t, "2.1", "sim")
	bad[len(bad)-1] ^= 1
	if _, err := s.Add(bad, "a@x", t0); !errors.Is(err, ErrRefused) {
		t.Fatalf("altered artifact: %v", err)
	}
	other, _ := Open(t.TempDir(), nil)
	if _, err := other.Add(art(t, "2.0", "sim"), "a@x", t0); !errors.Is(err, ErrRefused) {
		t.Fatalf("no trusted key: %v", err)
	}
	r := s.Releases()[0]
	again, _ := s.Add(art(t, "2.0", "sim"), "b@x", t0.Add(time.Hour))
	if again.ID != r.ID || len(s.Releases()) != 1 {
		t.Fatalf("the same artifact twice: %+v", s.Releases())
	}

	skipped, err := s.Assign(r.ID, []Target{{"c1", "co", "sim"}, {"c2", "co", "rpi-devkit"}}, "a@x", t0)
	if err != nil || len(skipped) != 1 || skipped["c2"] == "" {
		t.Fatalf("assign: %v %v", skipped, err)
	}
	if _, err := s.Assign("nosuch", nil, "a@x", t0); !errors.Is(err, ErrUnknownRelease) {
		t.Fatalf("unknown release: %v", err)
	}
	rep := wire.UpdateReport{Version: "1.0", Arch: "linux/arm64", Model: "sim", Slot: "a"}
	offer, changed, _ := s.Report("co", "c1", rep, t0)
	if offer == nil || offer.Release != r.ID || offer.Version != "2.0" || offer.Size != r.Size || !changed {
		t.Fatalf("offer %+v changed %v", offer, changed)
	}
	rep.Release, rep.State, rep.Percent = r.ID, wire.UpdateDownloading, 40
	if offer, _, _ = s.Report("co", "c1", rep, t0); offer == nil {
		t.Fatal("downloading: the offer must stand (a resumed download asks again)")
	}
	// A report about an older release does not overwrite the new offer.
	if offer, _, _ = s.Report("co", "c1", wire.UpdateReport{Version: "1.0", Arch: "linux/arm64", Model: "sim", Release: "rold", State: wire.UpdateCommitted}, t0); offer == nil {
		t.Fatal("an old release's report took the offer away")
	}
	rep.State, rep.Percent, rep.Reason = wire.UpdateRolledBack, 0, "version 2.0 failed on trial: exited with status 3"
	if offer, _, _ = s.Report("co", "c1", rep, t0); offer != nil {
		t.Fatalf("offered again after a rollback: %+v", offer)
	}
	// Kept across a restart of the cloud.
	s2, err := Open(dir, keys)
	if err != nil {
		t.Fatal(err)
	}
	d := s2.Devices("co")["c1"]
	if d.State != wire.UpdateRolledBack || d.Reason != rep.Reason || d.Running != "1.0" || d.Target != "2.0" || d.Arch != "linux/arm64" {
		t.Fatalf("after reopening: %+v", d)
	}
	if len(s2.Devices("other")) != 0 {
		t.Fatal("another company sees the clock")
	}
}
