package update

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"timeclock/internal/atomicfile"
)

// The slots: STATE_DIR/slots/a/timeclockd and .../b/timeclockd, and the
// link STATE_DIR/slots/current -> a or b, whose timeclockd the service runs.
const (
	SlotsDir = "slots"
	Current  = "current"
	Binary   = "timeclockd"
)

// Slots is the slot layout under a state directory.
type Slots struct{ Dir string }

// SlotsIn is the layout under stateDir.
func SlotsIn(stateDir string) Slots { return Slots{Dir: filepath.Join(stateDir, SlotsDir)} }

// Active is the slot the current link names.
func (s Slots) Active() (string, error) {
	t, err := os.Readlink(filepath.Join(s.Dir, Current))
	if err != nil {
		return "", fmt.Errorf("slots: %w", err)
	}
	if t != "a" && t != "b" {
		return "", fmt.Errorf("slots: %s points to %q, not a or b", Current, t)
	}
	return t, nil
}

// Other is the slot that is not name.
func Other(name string) string {
	if name == "a" {
		return "b"
	}
	return "a"
}

// BinaryPath is a slot's binary.
func (s Slots) BinaryPath(slot string) string { return filepath.Join(s.Dir, slot, Binary) }

// Switch points the current link at slot, atomically (a new link renamed
// over the old one) and durably.
func (s Slots) Switch(slot string) error {
	tmp := filepath.Join(s.Dir, "."+Current+".new")
	os.Remove(tmp)
	if err := os.Symlink(slot, tmp); err != nil {
		return fmt.Errorf("slots: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.Dir, Current)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("slots: %w", err)
	}
	return atomicfile.SyncDir(s.Dir)
}

// Install writes the binary into slot with write: a temporary file,
// fsynced, made executable and renamed over the slot's binary only when
// write succeeded. A power cut leaves the slot's old binary or the whole
// new one.
func (s Slots) Install(slot string, write func(io.Writer) error) error {
	dir := filepath.Join(s.Dir, slot)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("slot %s: %w", slot, err)
	}
	f, err := os.CreateTemp(dir, "."+Binary+".new*")
	if err != nil {
		return fmt.Errorf("slot %s: %w", slot, err)
	}
	tmp := f.Name()
	err = write(f)
	err = errors.Join(err, f.Chmod(0o755), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, s.BinaryPath(slot))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("slot %s: %w", slot, err)
	}
	return atomicfile.SyncDir(dir)
}

// Seed makes the layout around an existing binary: slot a holds a copy of
// bin and current points to it (the package's postinst does the same in
// shell; tests and hand installs use this).
func (s Slots) Seed(bin string) error {
	f, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := s.Install("a", func(w io.Writer) error { _, err := io.Copy(w, f); return err }); err != nil {
		return err
	}
	return s.Switch("a")
}
