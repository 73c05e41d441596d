package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/agent"
)

// FuzzConfigFile: any config file either loads into a config that passes
// its own checks (and writes back to JSON that loads the same), or is
// refused with an error that names the file; it never panics.
func FuzzConfigFile(f *testing.F) {
	for _, name := range []string{"timeclockd.json", "timeclockd-sim.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "packaging", "etc", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `{"duplicate_window":"0s"}`, `{"feedback_time":"300ms","sync_backoff_min":"20ms"}`,
		`{"idle_timeout":"9223372036854775807ns"}`, `{"idle_timeout":"-1s"}`, `{"sim_clock_offset":"-87600h"}`,
		`{"sim_clock_offset":"-2562047h"}`, `{"capacity":1e9}`, `{"timezone":"../../etc/passwd"}`, `{"cloud_url":"http://x"}`,
		`{"console_lockout":"1ns"}`, `{"board":"sim"} {}`, `{"nosuch":1}`, `[]`, `null`, ``} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		var fc fileConfig
		fc.Config = agent.DefaultConfig()
		fc.StateDir = dir
		if err := decodeConfig(b, &fc); err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if err := fc.Config.Validate(); err != nil {
			return // loadConfig refuses it, naming the field
		}
		if err := fc.consoleFile.config(false).Validate(); err != nil {
			return
		}
		if fc.Config.IdleTimeout.D() < time.Second || fc.Config.DuplicateWindow.D() < 0 {
			t.Fatalf("a config that passed its checks: %+v", fc.Config)
		}
		if d := fc.SimClockOffset.D(); d < -maxSimClockOffset || d > maxSimClockOffset {
			t.Fatalf("sim_clock_offset %v passed", d)
		}
		// Written back, it reads the same.
		out, err := json.Marshal(fc)
		if err != nil {
			t.Fatalf("a loaded config does not write back: %v", err)
		}
		var again fileConfig
		again.Config = agent.DefaultConfig()
		if err := decodeConfig(out, &again); err != nil {
			t.Fatalf("the written config does not load: %v\n%s", err, out)
		}
		if again.Config.IdleTimeout != fc.Config.IdleTimeout || again.SimClockOffset != fc.SimClockOffset ||
			again.Config.Capacity != fc.Config.Capacity || again.ConsoleLockout != fc.ConsoleLockout {
			t.Fatalf("written back differently:\n%s", out)
		}
	})
}

// FuzzDuration: a duration that reads writes back as text that reads to
// the same value.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"10s", "1m30s", "300ms", "0", "-1h", "9223372036854775807ns", "1.5h", "", "s", "1e3s", "+5m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d agent.Duration
		if err := d.UnmarshalText([]byte(s)); err != nil {
			if !strings.Contains(err.Error(), "duration") {
				t.Fatalf("the error does not say what it read: %v", err)
			}
			return
		}
		txt, err := d.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var again agent.Duration
		if err := again.UnmarshalText(txt); err != nil || again != d {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, d.D(), txt, again.D(), err)
		}
	})
}

func TestConfigFileRefusals(t *testing.T) {
	for in, want := range map[string]string{
		`{"board":"sim"} {}`:                   "data after the JSON object",
		`{"sim_clock_offset":"-2562047h"}`:     "sim_clock_offset",
		`{"sim_clock_offset":"-87600h"}`:       "",
		`{"idle_timeout":"ten seconds"}`:       "idle_timeout",
		`{"console_lockout":"9999999999999h"}`: "console_lockout",
	} {
		fc := fileConfig{Config: agent.DefaultConfig()}
		err := decodeConfig([]byte(in), &fc)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want an error naming %q", in, err, want)
		}
	}
}
