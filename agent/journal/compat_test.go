package journal_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"timeclock/internal/testenv"
)

// baselineFile names the release floor's commit (how and when it moves is
// in the file and in docs/updates.md).
const baselineFile = "../../release/compat-baseline"

// TestStateCompatibility: a clock rolls back from an update trial to the
// previous version, which opens the state the trial wrote, and it moves
// forward again. With the real code of both, the release floor's (the
// commit in release/compat-baseline, extracted with git archive and built
// here) and HEAD's, driven by the same program (testdata/compat):
//
//   - old -> new: state the baseline wrote opens in HEAD without damage,
//     every punch with every field equal (fields HEAD added are zero);
//   - new -> old: state HEAD wrote opens in the baseline without damage,
//     every punch with every field the baseline knows equal;
//   - both on one file: the baseline writes, HEAD writes (acks and clock
//     corrections rewrite records), the baseline reads and writes again,
//     HEAD reads.
func TestStateCompatibility(t *testing.T) {
	if os.Getenv("TIMECLOCK_QEMU") != "" {
		t.Skip("builds host binaries with the go tool: runs in the native make test")
	}
	start := time.Now()
	git := testenv.Tool(t, "git")
	base := readBaseline(t)
	root, err := exec.Command(git, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		msg := fmt.Sprintf("not in a git checkout (%v): the compatibility test needs the repository's history", err)
		if testenv.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	head := strings.TrimSpace(string(root))
	if out, err := exec.Command(git, "-C", head, "cat-file", "-e", base+"^{commit}").CombinedOutput(); err != nil {
		t.Fatalf("the baseline commit %s (%s) is not in this clone: %v: %s\n"+
			"a shallow clone needs `git fetch --unshallow`; if history was rewritten, move the baseline (docs/updates.md)",
			base, baselineFile, err, bytes.TrimSpace(out))
	}
	tmp := t.TempDir()
	old := filepath.Join(tmp, "baseline")
	extract(t, git, head, base, old)
	// The same driver source on both sides: HEAD's.
	src, err := os.ReadFile("testdata/compat/main.go")
	if err != nil {
		t.Fatal(err)
	}
	drv := filepath.Join(old, "agent/journal/testdata/compat")
	if err := os.MkdirAll(drv, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(drv, "main.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	oldBin, newBin := filepath.Join(tmp, "compat-baseline"), filepath.Join(tmp, "compat-head")
	build(t, old, oldBin)
	build(t, head, newBin)
	t.Logf("baseline %.12s extracted and both built in %v", base, time.Since(start).Round(time.Millisecond))
	oldV, newV := version{"baseline " + base[:12], oldBin}, version{"HEAD", newBin}

	t.Run("old to new", func(t *testing.T) {
		dir := t.TempDir()
		oldV.run(t, "write", dir)
		wrote := oldV.read(t, dir, 13)
		compare(t, oldV, newV, wrote, newV.read(t, dir, 13))
	})
	t.Run("new to old", func(t *testing.T) {
		dir := t.TempDir()
		newV.run(t, "write", dir)
		wrote := newV.read(t, dir, 13)
		compare(t, newV, oldV, wrote, oldV.read(t, dir, 13))
	})
	t.Run("upgrade, trial, rollback, upgrade", func(t *testing.T) {
		dir := t.TempDir()
		oldV.run(t, "write", dir)
		newV.run(t, "write", dir) // the trial
		wrote := newV.read(t, dir, 26)
		compare(t, newV, oldV, wrote, oldV.read(t, dir, 26)) // rolled back
		oldV.run(t, "write", dir)
		wrote = oldV.read(t, dir, 39)
		compare(t, oldV, newV, wrote, newV.read(t, dir, 39)) // updated again
	})
	t.Logf("took %v", time.Since(start).Round(time.Millisecond))
}

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// readBaseline returns the commit the baseline file names: its one line
// that is not blank or a # comment.
func readBaseline(t *testing.T) string {
	t.Helper()
	f, err := os.Open(baselineFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var commits []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			commits = append(commits, l)
		}
	}
	if len(commits) != 1 || !commitRE.MatchString(commits[0]) {
		t.Fatalf("%s: want one full commit hash (40 hex digits) besides # comments, found %q", baselineFile, commits)
	}
	return commits[0]
}

// extract writes commit's tree into dir (git archive, read here: no tar
// command needed).
func extract(t *testing.T, git, repo, commit, dir string) {
	t.Helper()
	cmd := exec.Command(git, "-C", repo, "archive", "--format=tar", commit)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("git archive %s: %v", commit, err)
		}
		name := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, dir+string(filepath.Separator)) {
			t.Fatalf("git archive %s: path %q outside the tree", commit, h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(name, 0o755)
		case tar.TypeReg:
			var b []byte
			if b, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(name, b, os.FileMode(h.Mode)&0o755|0o600)
			}
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, name)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("git archive %s: %v %s", commit, err, stderr.Bytes())
	}
}

// build builds the driver of the module at dir, for this machine, with
// the module and build caches this test runs with: offline and quick while
// the baseline's modules are HEAD's (a module only the baseline needs is
// fetched as any build fetches it).
func build(t *testing.T, dir, out string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", out, "./agent/journal/testdata/compat")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0",
		"GOFLAGS=-mod=readonly", "GOTOOLCHAIN=local", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the driver in %s: %v\n%s", dir, err, b)
	}
}

// version is one side's driver.
type version struct{ name, bin string }

func (v version) run(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(v.bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: compat %s: %v\n%s", v.name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// readState is what the driver's read prints, its punches as field maps:
// each version prints the fields it has.
type readState struct {
	Notice  string           `json:"notice"`
	Aside   []any            `json:"aside"`
	Pending int              `json:"pending"`
	Punches []map[string]any `json:"punches"`
}

// read opens dir's state in this version and requires it sound, with n
// punches.
func (v version) read(t *testing.T, dir string, n int) readState {
	t.Helper()
	var s readState
	out := v.run(t, "read", dir)
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("%s: read: %v\n%s", v.name, err, out)
	}
	if s.Notice != "" || len(s.Aside) != 0 {
		t.Fatalf("%s opens the state as damaged: %s (set aside: %v)", v.name, s.Notice, s.Aside)
	}
	if len(s.Punches) != n {
		t.Fatalf("%s reads %d punches, want %d", v.name, len(s.Punches), n)
	}
	return s
}

// compare: reader read what writer wrote (writer's own reading of it is
// wrote): the same punches, each field both versions have equal; a field
// only the reader has is zero (it cannot have been written).
func compare(t *testing.T, writer, reader version, wrote, read readState) {
	t.Helper()
	if read.Pending != wrote.Pending {
		t.Errorf("%s counts %d pending, %s %d", reader.name, read.Pending, writer.name, wrote.Pending)
	}
	unknown := map[string]bool{}
	for i, w := range wrote.Punches {
		r := read.Punches[i]
		for k, wv := range w {
			rv, ok := r[k]
			if !ok {
				unknown[k] = true
				continue
			}
			if !reflect.DeepEqual(rv, wv) {
				t.Errorf("punch %v: %s wrote %s = %v, %s reads %v", w["Seq"], writer.name, k, wv, reader.name, rv)
			}
		}
		for k, rv := range r {
			if _, ok := w[k]; !ok && !zero(rv) {
				t.Errorf("punch %v: %s reads %s = %v, a field %s does not have", w["Seq"], reader.name, k, rv, writer.name)
			}
		}
	}
	if len(unknown) > 0 {
		var ks []string
		for k := range unknown {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		t.Logf("fields %s has and %s does not: %s", writer.name, reader.name, strings.Join(ks, ", "))
	}
}

func zero(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == "" || v == "0001-01-01T00:00:00Z"
	case float64:
		return v == 0
	case bool:
		return !v
	}
	return false
}
