package archtest

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const mod = "timeclock"

// rule says which of our packages a package may not import.
type rule struct {
	pkg    func(string) bool // packages the rule covers
	forbid func(string) bool // imports it may not have
	why    string
}

func under(prefix string) func(string) bool {
	return func(p string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }
}

func is(p string) func(string) bool { return func(q string) bool { return q == p } }

func ours(p string) bool { return p == mod || strings.HasPrefix(p, mod+"/") }

// driver reports whether p is a concrete hal driver (hal/<name>, sim included).
func driver(p string) bool {
	return strings.HasPrefix(p, mod+"/hal/") && !strings.HasPrefix(p, mod+"/hal/haltest")
}

func any(fs ...func(string) bool) func(string) bool {
	return func(p string) bool {
		for _, f := range fs {
			if f(p) {
				return true
			}
		}
		return false
	}
}

var rules = []rule{
	{is(mod + "/hal"), ours, "hal imports nothing of ours"},
	{is(mod + "/wire"), ours, "the wire types import nothing of ours"},
	{driver, any(under(mod+"/agent"), under(mod+"/onboarding"), under(mod+"/board"), under(mod+"/cloud"), under(mod+"/cmd")),
		"drivers import hal, periph and serial only"},
	{any(under(mod+"/agent"), under(mod+"/onboarding")), any(driver, under(mod+"/board"), under(mod+"/cloud")),
		"agent and onboarding depend on hal interfaces, never on drivers or board"},
	{under(mod + "/onboarding"), under(mod + "/agent"), "onboarding is below the agent: the agent runs it"},
	{under(mod + "/agent/punchflow"), func(p string) bool { return ours(p) && p != mod+"/hal" && p != mod+"/agent/journal" },
		"the punch flow is pure: of ours it imports only hal and the journal's types"},
	{under(mod + "/cloud"), any(under(mod+"/agent"), under(mod+"/onboarding"), under(mod+"/hal"), under(mod+"/board")),
		"cloud shares only the wire types with the device"},
	{func(p string) bool {
		return !under(mod+"/board")(p) && !under(mod+"/cmd")(p) && !driver(p) && !under(mod+"/internal")(p)
	},
		driver, "only board and cmd/* pick drivers"},
}

// violations checks a package -> imports map against the rules.
func violations(imports map[string][]string) []string {
	var out []string
	for pkg, imps := range imports {
		for _, r := range rules {
			if !r.pkg(pkg) {
				continue
			}
			for _, imp := range imps {
				if ours(imp) && r.forbid(imp) {
					out = append(out, pkg+" imports "+imp+": "+r.why)
				}
			}
		}
	}
	return out
}

func TestImportDirection(t *testing.T) {
	if os.Getenv("TIMECLOCK_QEMU") != "" {
		t.Skip("needs the go command; checked on the build host")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, "list", "-json", mod+"/...")
	cmd.Dir = "../.."
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	imports := map[string][]string{}
	dec := json.NewDecoder(out)
	for {
		var p struct {
			ImportPath string
			Imports    []string // non-test imports: tests may use fakes freely
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		imports[p.ImportPath] = p.Imports
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(imports) < 5 {
		t.Fatalf("go list found only %d packages", len(imports))
	}
	for _, v := range violations(imports) {
		t.Error(v)
	}
}

// The rules themselves must catch what they are for.
func TestRulesCatchViolations(t *testing.T) {
	for _, tc := range []struct{ pkg, imp string }{
		{mod + "/hal", mod + "/clock"},
		{mod + "/agent", mod + "/hal/sim"},
		{mod + "/agent", mod + "/board"},
		{mod + "/onboarding", mod + "/hal/hd44780"},
		{mod + "/cloud", mod + "/agent"},
		{mod + "/cloud/broker", mod + "/hal"},
		{mod + "/hal/wiegand", mod + "/agent"},
		{mod + "/wire", mod + "/clock"},
		{mod + "/clock", mod + "/hal/sim"},
		{mod + "/onboarding/netcheck", mod + "/agent"},
		{mod + "/agent/punchflow", mod + "/agent/store"},
		{mod + "/agent/punchflow", mod + "/clock"},
	} {
		if len(violations(map[string][]string{tc.pkg: {tc.imp}})) == 0 {
			t.Errorf("%s importing %s passed the rules", tc.pkg, tc.imp)
		}
	}
	for _, tc := range []struct{ pkg, imp string }{
		{mod + "/agent", mod + "/hal"},
		{mod + "/board", mod + "/hal/sim"},
		{mod + "/cmd/timeclockd", mod + "/hal/sim"},
		{mod + "/hal/sim", mod + "/hal"},
		{mod + "/cloud", mod + "/wire"},
		{mod + "/agent", mod + "/wire"},
		{mod + "/agent/punchflow", mod + "/hal"},
		{mod + "/agent/punchflow", mod + "/agent/journal"},
	} {
		if v := violations(map[string][]string{tc.pkg: {tc.imp}}); len(v) != 0 {
			t.Errorf("allowed import refused: %v", v)
		}
	}
}
