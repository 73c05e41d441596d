package archtest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

const mod = "timeclock"

// graph is the layering rules, parsed: each name with the names it may
// depend on (directly, by a rule) and the packages it stands for.
type graph struct {
	names   []string            // every name, in the order first seen
	below   map[string][]string // name -> names its rules put below it
	members map[string]string   // package pattern -> the name it belongs to
	allowed map[string]map[string]bool
}

// parse reads rules of the form "a, b < c, d;" and "GROUP = a, b;".
func parse(text string) (*graph, error) {
	g := &graph{below: map[string][]string{}, members: map[string]string{}}
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			g.names = append(g.names, n)
		}
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if i := strings.Index(l, "#"); i >= 0 {
			l = l[:i]
		}
		lines = append(lines, l)
	}
	for _, stmt := range strings.Split(strings.Join(lines, " "), ";") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" {
			continue
		}
		if lhs, rhs, ok := strings.Cut(stmt, "="); ok {
			group := strings.TrimSpace(lhs)
			if !isGroup(group) {
				return nil, fmt.Errorf("%q: only a group in capitals can be declared with =", stmt)
			}
			add(group)
			for _, m := range list(rhs) {
				if prev, dup := g.members[m]; dup {
					return nil, fmt.Errorf("%s is in both %s and %s", m, prev, group)
				}
				g.members[m] = group
			}
			continue
		}
		lhs, rhs, ok := strings.Cut(stmt, "<")
		if !ok {
			return nil, fmt.Errorf("%q: want \"a, b < c\" or \"GROUP = a, b\"", stmt)
		}
		lo, hi := list(lhs), list(rhs)
		if len(lo) == 0 || len(hi) == 0 {
			return nil, fmt.Errorf("%q: empty side", stmt)
		}
		for _, n := range slices.Concat(lo, hi) {
			if n == "NONE" {
				continue
			}
			if !seen[n] && !isGroup(n) {
				if _, dup := g.members[n]; dup {
					return nil, fmt.Errorf("%s is both a group member and a name of its own", n)
				}
				g.members[n] = n
			}
			add(n)
		}
		for _, h := range hi {
			if h == "NONE" {
				return nil, fmt.Errorf("%q: NONE goes on the left", stmt)
			}
			for _, l := range lo {
				if l != "NONE" {
					g.below[h] = append(g.below[h], l)
				}
			}
		}
	}
	// What each name may reach: the closure of its rules.
	g.allowed = map[string]map[string]bool{}
	var walk func(n string, stack []string) (map[string]bool, error)
	walk = func(n string, stack []string) (map[string]bool, error) {
		if a, ok := g.allowed[n]; ok {
			return a, nil
		}
		if slices.Contains(stack, n) {
			return nil, fmt.Errorf("rules loop: %s", strings.Join(append(stack, n), " < "))
		}
		a := map[string]bool{n: true}
		for _, b := range g.below[n] {
			ba, err := walk(b, append(stack, n))
			if err != nil {
				return nil, err
			}
			for k := range ba {
				a[k] = true
			}
		}
		g.allowed[n] = a
		return a, nil
	}
	for _, n := range g.names {
		if _, err := walk(n, nil); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func isGroup(n string) bool {
	return n != "" && strings.ToUpper(n) == n && !strings.ContainsAny(n, "./")
}

// external reports whether an import path is third-party: a dot in its
// first element. The standard library has none.
func external(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return strings.Contains(first, ".")
}

func ours(p string) bool { return p == mod || strings.HasPrefix(p, mod+"/") }

func std(p string) bool { return !ours(p) && !external(p) }

// key is the path a pattern is written with: ours relative to the module.
func key(p string) string {
	if ours(p) {
		return strings.TrimPrefix(strings.TrimPrefix(p, mod), "/")
	}
	return p
}

func match(pattern, path string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

// nameOf returns the name a package (ours or third-party) belongs to: the
// most specific pattern that matches it.
func (g *graph) nameOf(p string) (string, bool) {
	k := key(p)
	best, name := "", ""
	for pat, n := range g.members {
		if match(pat, k) && len(pat) > len(best) {
			best, name = pat, n
		}
	}
	return name, name != ""
}

// may reports whether a package of ours in name n may depend on dep.
func (g *graph) may(n, dep string) bool {
	if std(dep) {
		return true
	}
	dn, ok := g.nameOf(dep)
	return ok && g.allowed[n][dn]
}

// pkg is what the check needs of one package: go list's ImportPath, its
// direct Imports and its transitive Deps (non-test).
type pkg struct {
	ImportPath string
	GoFiles    []string // none: a package of tests only, which nothing can import
	Imports    []string
	Deps       []string
}

// violations checks packages against the rules: every package of ours
// must be placed; every package of ours it reaches, directly or not, and
// every third-party package it imports must be allowed for its layer.
func (g *graph) violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		if !ours(p.ImportPath) || len(p.GoFiles) == 0 {
			continue
		}
		n, ok := g.nameOf(p.ImportPath)
		if !ok {
			out = append(out, fmt.Sprintf("%s is in no layer: place it in internal/archtest/rules.go", key(p.ImportPath)))
			continue
		}
		for _, d := range p.Deps {
			if ours(d) && !g.may(n, d) {
				out = append(out, fmt.Sprintf("%s (%s) reaches %s%s", key(p.ImportPath), n, key(d), via(p, d, pkgs)))
			}
		}
		for _, d := range p.Imports {
			if external(d) && !g.may(n, d) {
				out = append(out, fmt.Sprintf("%s (%s) imports %s", key(p.ImportPath), n, d))
			}
		}
	}
	sort.Strings(out)
	return out
}

// via names the chain of imports through which p reaches d, for the message.
func via(p pkg, d string, pkgs []pkg) string {
	imports := map[string][]string{}
	for _, q := range pkgs {
		imports[q.ImportPath] = q.Imports
	}
	prev := map[string]string{p.ImportPath: ""}
	queue := []string{p.ImportPath}
	for len(queue) > 0 {
		q := queue[0]
		queue = queue[1:]
		if q == d {
			break
		}
		for _, i := range imports[q] {
			if _, ok := prev[i]; !ok {
				prev[i] = q
				queue = append(queue, i)
			}
		}
	}
	if _, ok := prev[d]; !ok {
		return ""
	}
	var chain []string
	for q := d; q != ""; q = prev[q] {
		chain = append(chain, key(q))
	}
	if len(chain) <= 2 {
		return ""
	}
	slices.Reverse(chain)
	return " via " + strings.Join(chain, " -> ")
}
