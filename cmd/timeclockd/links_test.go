package main

import (
	"debug/elf"
	"debug/gosym"
	"strings"
	"testing"

	"timeclock/internal/daemontest"
)

// TestAgentLinksNoRegexp: timeclockd links no regular-expression engine.
// go.bug.st/serial compiled its port-name filter at package init, which
// linked regexp, regexp/syntax and the Unicode tables (~184 KiB of the
// stripped GOARM=7 binary, which must stay <= 8 MiB) and compiled a regexp
// at every start; third_party/go.bug.st/serial compiles it only when ports
// are listed, which the clock never does. The check reads the function
// table the runtime keeps, so it works on the stripped binary too.
func TestAgentLinksNoRegexp(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	funcs := linkedFuncs(t, bin)
	if len(funcs) < 1000 {
		t.Fatalf("read only %d functions from %s's table", len(funcs), bin)
	}
	var found []string
	for _, f := range funcs {
		pkg, fn, _ := strings.Cut(f, ".")
		if (pkg == "regexp" || pkg == "regexp/syntax") && !isPackageInit(fn) {
			found = append(found, f)
		}
	}
	if len(found) > 0 {
		t.Errorf("timeclockd links %d regexp functions (%q...): something imports and uses regexp "+
			"(go.bug.st/serial's package-level filter? see third_party/go.bug.st/serial/PATCHES.md)",
			len(found), found[:min(3, len(found))])
	}
}

// TestAgentLinksNoHeavyCode: what the binary-size work took out stays out
// (BENCHMARKS.md, "Binary size": each was tens of KiB of the GOARM=7
// binary). A function of one of these prefixes means a change reached
// it again: use the named replacement or measure and say why.
func TestAgentLinksNoHeavyCode(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	funcs := linkedFuncs(t, bin)
	if len(funcs) < 1000 {
		t.Fatalf("read only %d functions from %s's table", len(funcs), bin)
	}
	for _, c := range []struct{ prefix, instead string }{
		{"net/http.(*Transport).", "internal/httpc (net/http's Client and Transport, ~172 KiB)"},
		{"net/http.(*Client).", "internal/httpc (net/http's Client and Transport, ~172 KiB)"},
		{"image/draw.", "periph ssd1306's Write with the panel's own frame (image/draw, ~52 KiB)"},
		{"os/exec.", "runCommand in system.go (os/exec, ~36 KiB)"},
	} {
		var found []string
		for _, f := range funcs {
			_, fn, _ := strings.Cut(f, ".")
			if strings.HasPrefix(f, c.prefix) && !isPackageInit(fn) && !strings.HasPrefix(fn, "init.") {
				found = append(found, f)
			}
		}
		if len(found) > 0 {
			t.Errorf("timeclockd links %d functions %s* (%q...); instead: %s",
				len(found), c.prefix, found[:min(3, len(found))], c.instead)
		}
	}
}

// isPackageInit says whether a function (its name without the package) is
// one of a package's init functions, which stay for every imported package
// (regexp's fill two small tables).
func isPackageInit(fn string) bool {
	rest, ok := strings.CutPrefix(fn, "init")
	return ok && (rest == "" || strings.Trim(rest, ".0123456789") == "")
}

// linkedFuncs is the names of the functions in a Go ELF binary's pclntab.
func linkedFuncs(t *testing.T, bin string) []string {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		t.Fatalf("%s: no .gopclntab or .text section", bin)
	}
	data, err := pcln.Data()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(tab.Funcs))
	for _, fn := range tab.Funcs {
		names = append(names, fn.Name)
	}
	return names
}
