package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// probeScript records its arguments, its environment's PROBE_TAG and where
// its stdin, stdout and stderr point, then exits with PROBE_EXIT.
const probeScript = `#!/bin/sh
PATH=/usr/bin:/bin
fds="$(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1) $(readlink /proc/$$/fd/2)"
printf 'args: %s\ntag: %s\nfds: %s\n' "$*" "$PROBE_TAG" "$fds" > "$PROBE_OUT"
exit "${PROBE_EXIT:-0}"
`

func writeProbe(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "probe")
	if err := os.WriteFile(p, []byte(probeScript), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunCommandAsOSExecDoes(t *testing.T) {
	dir := t.TempDir()
	writeProbe(t, dir)
	out := filepath.Join(t.TempDir(), "out")
	t.Setenv("PATH", "/nonexistent:"+dir)
	t.Setenv("PROBE_OUT", out)
	t.Setenv("PROBE_TAG", "inherited")

	if err := runCommand("probe", "reboot", "now"); err != nil {
		t.Fatalf("runCommand: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "args: reboot now\ntag: inherited\nfds: /dev/null /dev/null /dev/null\n"
	if string(b) != want {
		t.Errorf("the program saw\n%s\nwant\n%s", b, want)
	}

	t.Setenv("PROBE_EXIT", "3")
	if err := runCommand("probe"); err == nil || err.Error() != "exit status 3" {
		t.Errorf("exit 3: %v, want exit status 3", err)
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	probe := writeProbe(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "notexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if p, err := lookPath("probe"); err != nil || p != probe {
		t.Errorf("lookPath(probe) = %q, %v; want %q", p, err, probe)
	}
	if p, err := lookPath(probe); err != nil || p != probe {
		t.Errorf("a path with a slash: %q, %v", p, err)
	}
	for _, name := range []string{"notexec", "adir", "missing"} {
		if p, err := lookPath(name); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("lookPath(%s) = %q, %v; want not found", name, p, err)
		}
	}
	// A relative directory on $PATH is skipped, as os/exec refuses what it
	// finds there.
	t.Chdir(filepath.Dir(dir))
	t.Setenv("PATH", filepath.Base(dir))
	if p, err := lookPath("probe"); err == nil {
		t.Errorf("found %q through a relative $PATH entry", p)
	}
}
