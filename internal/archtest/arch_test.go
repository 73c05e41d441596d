package archtest

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestLayers checks every package of the module, with all it reaches,
// against the allow-list in rules.go.
func TestLayers(t *testing.T) {
	if os.Getenv("TIMECLOCK_QEMU") != "" {
		t.Skip("needs the go command; checked on the build host")
	}
	g, err := parse(layers)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := goList(t, mod+"/...")
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, v := range g.violations(pkgs) {
		t.Error(v)
	}
	// A rule for a package that no longer exists hides a layer nobody checks.
	for pat, n := range g.members {
		if external(pat) {
			continue
		}
		if !slices.ContainsFunc(pkgs, func(p pkg) bool { return match(pat, key(p.ImportPath)) }) {
			t.Errorf("rules.go names %s (%s), which matches no package", pat, n)
		}
	}
}

func goList(t *testing.T, pattern string) []pkg {
	t.Helper()
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-json=ImportPath,GoFiles,Imports,Deps", pattern)
	cmd.Dir = "../.."
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// fakeTree is a small module for the rules' own tests: each package with
// its direct imports; deps are computed as go list would.
func fakeTree(imports map[string][]string) []pkg {
	var pkgs []pkg
	for p := range imports {
		seen := map[string]bool{}
		var walk func(string)
		walk = func(q string) {
			for _, i := range imports[q] {
				if !seen[i] {
					seen[i] = true
					walk(i)
				}
			}
		}
		walk(p)
		var deps []string
		for d := range seen {
			deps = append(deps, d)
		}
		slices.Sort(deps)
		pkgs = append(pkgs, pkg{ImportPath: p, GoFiles: []string{"x.go"}, Imports: imports[p], Deps: deps})
	}
	return pkgs
}

func full(rel string) string {
	if external(rel) {
		return rel
	}
	return mod + "/" + rel
}

// The imports issue 11 found passing the old deny-list of direct imports
// must each fail, and the ordinary ones must pass.
func TestRulesCatchViolations(t *testing.T) {
	g, err := parse(layers)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		imports map[string][]string // relative paths; a chain is followed transitively
		want    string              // part of the violation
	}{
		{"agent reaches the cloud through test support",
			map[string][]string{"agent": {"internal/fakecloud"}, "internal/fakecloud": {"cloud/broker"}, "cloud/broker": nil},
			"agent (agent/...) reaches cloud/broker via agent -> internal/fakecloud -> cloud/broker"},
		{"agent imports test support", map[string][]string{"agent": {"internal/fakecloud"}, "internal/fakecloud": nil}, "agent (agent/...) reaches internal/fakecloud"},
		{"driver imports wire", map[string][]string{"hal/wiegand": {"wire"}, "wire": nil}, "hal/wiegand (hal/wiegand) reaches wire"},
		{"driver imports clock", map[string][]string{"hal/matrix": {"clock"}, "clock": nil}, "hal/matrix (hal/matrix) reaches clock"},
		{"driver imports the e2e rig", map[string][]string{"hal/sim": {"internal/e2e"}, "internal/e2e": nil}, "hal/sim (hal/sim) reaches internal/e2e"},
		{"board imports agent", map[string][]string{"board": {"agent"}, "agent": nil}, "board (board) reaches agent"},
		{"clock imports agent", map[string][]string{"clock": {"agent"}, "agent": nil}, "clock (clock) reaches agent"},
		{"hal imports clock", map[string][]string{"hal": {"clock"}, "clock": nil}, "hal (hal) reaches clock"},
		{"cloud reaches hal through wire", map[string][]string{"cloud/registry": {"wire"}, "wire": {"hal"}, "hal": nil}, "cloud/registry (cloud/...) reaches hal via cloud/registry -> wire -> hal"},
		{"onboarding imports the agent", map[string][]string{"onboarding": {"agent/store"}, "agent/store": nil}, "onboarding (onboarding) reaches agent/store"},
		{"the punch flow reaches the roster", map[string][]string{"agent/punchflow": {"agent/roster"}, "agent/roster": nil}, "agent/punchflow (agent/punchflow) reaches agent/roster"},
		{"agent picks a driver", map[string][]string{"agent": {"hal/sim"}, "hal/sim": nil}, "agent (agent/...) reaches hal/sim"},
		{"hal's interfaces import periph's host", map[string][]string{"hal": {"periph.io/x/host/v3"}}, "hal (hal) imports periph.io/x/host/v3"},
		{"a driver initialises the host", map[string][]string{"hal/matrix": {"periph.io/x/host/v3/gpioioctl"}}, "hal/matrix (hal/matrix) imports periph.io/x/host/v3/gpioioctl"},
		{"the device embeds the cloud's broker", map[string][]string{"agent/cloudsync": {"github.com/mochi-mqtt/server/v2"}}, "imports github.com/mochi-mqtt/server/v2"},
		{"a package nobody placed", map[string][]string{"nosuch": nil}, "nosuch is in no layer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imports := map[string][]string{}
			for p, imps := range tc.imports {
				var full_ []string
				for _, i := range imps {
					full_ = append(full_, full(i))
				}
				if !external(p) {
					imports[full(p)] = full_
				}
			}
			v := g.violations(fakeTree(imports))
			if !slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, tc.want) }) {
				t.Errorf("want a violation containing %q, got %q", tc.want, v)
			}
		})
	}
	for _, tc := range []map[string][]string{
		{"agent": {"hal", "wire", "agent/journal", "onboarding"}, "agent/journal": {"agent/store"}, "agent/store": {"wire", "clock"}, "onboarding": {"onboarding/identity", "hal"}, "onboarding/identity": {"wire", "internal/atomicfile"}},
		{"board": {"hal/sim", "hal/wiegand", "periph.io/x/host/v3"}, "hal/sim": {"hal"}, "hal/wiegand": {"hal", "hal/internal/edge"}, "hal/internal/edge": {"periph.io/x/conn/v3/gpio"}},
		{"cmd/timeclockd": {"agent", "board", "internal/cli"}, "agent": {"hal"}, "board": {"hal"}},
		{"cloud": {"cloud/broker", "wire", "internal/atomicfile"}, "cloud/broker": {"github.com/mochi-mqtt/server/v2"}},
		{"agent/punchflow": {"hal", "agent/journal"}, "agent/journal": nil},
		{"internal/fakecloud": {"cloud/broker", "onboarding/identity", "internal/await"}, "cloud/broker": nil, "onboarding/identity": nil},
	} {
		imports := map[string][]string{}
		for p, imps := range tc {
			var full_ []string
			for _, i := range imps {
				full_ = append(full_, full(i))
			}
			imports[full(p)] = full_
		}
		if v := g.violations(fakeTree(imports)); len(v) != 0 {
			t.Errorf("allowed imports refused: %q", v)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, text := range []string{
		"a < b; b < a;", // a loop
		"a b c;",        // no <
		"NONE < ;",      // empty side
		"a < NONE;",     // NONE on the right
		"X = a; Y = a;", // in two groups
		"lower = a;",    // a group must be in capitals
	} {
		if _, err := parse(text); err == nil {
			t.Errorf("parse(%q) = nil error", text)
		}
	}
}
