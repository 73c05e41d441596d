package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A factory reset erases the clock's state directory in two steps: the
// console's factory-reset leaves a marker and reboots
// (requestFactoryReset), and the next start erases the state before
// anything opens it (FinishFactoryReset, which cmd/timeclockd calls first
// thing). Erasing at start means no store is ever erased under an open file.

// factoryResetMarker, in the state directory, asks the next start to erase
// the state.
const factoryResetMarker = "factory-reset-requested"

// requestFactoryReset writes the marker into the state directory dir, durably.
func requestFactoryReset(dir string, now time.Time) error {
	path := filepath.Join(dir, factoryResetMarker)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("factory reset: %w", err)
	}
	_, err = fmt.Fprintf(f, "requested %s\n", now.UTC().Format(time.RFC3339))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncStateDir(dir)
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("factory reset: %w", err)
	}
	return nil
}

// FinishFactoryReset erases the state directory dir if the console's
// factory-reset asked for it,
// keeping the paths in keep that lie inside it (the log file, a config file
// kept there). The marker goes last, so a crash half-way
// erases again at the next start. It reports whether it erased.
func FinishFactoryReset(dir string, keep ...string) (bool, error) {
	marker := filepath.Join(dir, factoryResetMarker)
	if _, err := os.Stat(marker); os.IsNotExist(err) {
		return false, nil
	}
	kept := map[string]bool{factoryResetMarker: true}
	for _, k := range keep {
		if k == "" {
			continue
		}
		abs, err1 := filepath.Abs(k)
		base, err2 := filepath.Abs(dir)
		if err1 != nil || err2 != nil {
			continue
		}
		if rel, err := filepath.Rel(base, abs); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			kept[strings.SplitN(rel, string(filepath.Separator), 2)[0]] = true
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("factory reset: %w", err)
	}
	for _, e := range entries {
		if kept[e.Name()] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return false, fmt.Errorf("factory reset: %w", err)
		}
	}
	if err := os.Remove(marker); err != nil {
		return false, fmt.Errorf("factory reset: %w", err)
	}
	return true, syncStateDir(dir)
}

func syncStateDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
