package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"timeclock/internal/daemontest"
)

// noGPIO skips on a host that has GPIO chips: there the dev kit's pins may
// well exist.
func noGPIO(t *testing.T) {
	if ms, _ := filepath.Glob("/dev/gpiochip*"); len(ms) > 0 {
		t.Skip("this host has GPIO chips")
	}
}

func TestDevkitWithoutGPIONamesTheMissingPin(t *testing.T) {
	noGPIO(t)
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	out, err := exec.Command(bin, "--board", "rpi-devkit", "--state-dir", t.TempDir()).CombinedOutput()
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	msg := string(out)
	for _, want := range []string{"timeclockd: board rpi-devkit: keypad.rows[0]: GPIO pin GPIO5 not found on this host", "/dev/gpiochip"} {
		if !strings.Contains(msg, want) {
			t.Errorf("output lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "panic") || strings.Contains(msg, "goroutine ") {
		t.Errorf("crashed instead of failing cleanly:\n%s", msg)
	}
}

const kitFile = `{"models": [{"name": "lobby-kit", "family": "custom", "description": "integrator's board",
	"display": {"driver": "hd44780", "cols": 16, "rows": 2, "bus": "1", "addr": 63},
	"keypad": {"driver": "evdev", "device": "/dev/input/by-path/platform-keypad-event"},
	"badges": [{"driver": "wiegand", "d0": "GPIO4", "d1": "D1PIN"}],
	"indicator": {"driver": "gpio", "green": "GPIO22", "red": "GPIO23"},
	"inputs": [{"kind": "pin", "driven": true}, {"kind": "rfid", "driven": true}],
	"network": [{"name": "eth0", "kind": "lan"}]}]}`

func TestBoardFile(t *testing.T) {
	noGPIO(t)
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(strings.ReplaceAll(kitFile, "D1PIN", "GPIO27")), 0o600)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(strings.ReplaceAll(kitFile, "D1PIN", "GPIO22")), 0o600)
	for _, tc := range []struct {
		name, file string
		want       string
	}{
		// The integrator's model is found and opened: it fails on this
		// host at its first pin.
		{"model from the file", good, "board lobby-kit: badges[0].d0: GPIO pin GPIO4 not found"},
		{"pin used twice", bad, "models[0]: lobby-kit: indicator.green: pin GPIO22 is also used by badges[0].d1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(bin, "--board", "lobby-kit", "--board-file", tc.file, "--state-dir", dir).CombinedOutput()
			if exitCode(err) != 1 || !strings.Contains(string(out), tc.want) {
				t.Fatalf("exit %d, output:\n%s\nwant exit 1 and %q", exitCode(err), out, tc.want)
			}
		})
	}
}
