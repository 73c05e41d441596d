package identity

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"timeclock/internal/atomicfile"
)

// SerialOpts says where the device serial comes from.
type SerialOpts struct {
	// FS is the root file system the board's sources are read from; nil is
	// the real one. Tests hand in a fstest.MapFS.
	FS fs.FS
	// StateDir keeps a generated serial.
	StateDir string
	// Board reads the board's own serial (cpuinfo, device tree,
	// machine-id). A simulated board sets it false: each sim clock gets a
	// generated serial of its own, even many on one host.
	Board bool
}

// DeviceSerial returns the clock's serial: the board's (the Serial line of
// /proc/cpuinfo, /sys/firmware/devicetree/base/serial-number,
// /etc/machine-id, the first that is there and valid), or else one
// generated once ("TC" and 12 hex digits) and kept in STATE_DIR/serial.
func DeviceSerial(o SerialOpts) (string, error) {
	if o.Board {
		fsys := o.FS
		if fsys == nil {
			fsys = os.DirFS("/")
		}
		if b, err := fs.ReadFile(fsys, "proc/cpuinfo"); err == nil {
			if s := CPUInfoSerial(string(b)); s != "" {
				return s, nil
			}
		}
		for _, p := range []string{"sys/firmware/devicetree/base/serial-number", "etc/machine-id"} {
			if b, err := fs.ReadFile(fsys, p); err == nil {
				if s, ok := CleanSerial(string(b)); ok {
					return s, nil
				}
			}
		}
	}
	path := filepath.Join(o.StateDir, serialFile)
	if b, err := os.ReadFile(path); err == nil {
		if s, ok := CleanSerial(string(b)); ok {
			return s, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("serial: %w", err)
	}
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("serial: %w", err)
	}
	s := "TC" + strings.ToUpper(hex.EncodeToString(r[:]))
	if err := atomicfile.Write(path, []byte(s+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("serial: %w", err)
	}
	return s, nil
}

// CPUInfoSerial reads the "Serial : ..." line of /proc/cpuinfo (Raspberry Pi
// and many ARM boards); "" when there is none or it is all zeros.
func CPUInfoSerial(cpuinfo string) string {
	sc := bufio.NewScanner(strings.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(k) != "Serial" {
			continue
		}
		if s, ok := CleanSerial(v); ok {
			return s
		}
	}
	return ""
}

// CleanSerial trims a serial (device-tree strings end in NUL) and checks it:
// 4 to 64 characters of letters, digits, '-', '_' or '.', not all zeros.
func CleanSerial(s string) (string, bool) {
	s = strings.TrimSpace(strings.TrimRight(s, "\x00\n"))
	if len(s) < 4 || len(s) > 64 {
		return "", false
	}
	zeros := true
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_', c == '.':
		default:
			return "", false
		}
		zeros = zeros && c == '0'
	}
	if zeros {
		return "", false
	}
	return s, true
}
