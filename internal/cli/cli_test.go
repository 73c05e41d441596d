package cli

import (
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	newFS := func() (*flag.FlagSet, *string) {
		fs := flag.NewFlagSet("tool", flag.ContinueOnError)
		v := fs.String("name", "x", "a name")
		fs.Bool("quiet", false, "")
		return fs, v
	}
	fs, v := newFS()
	set, err := Parse(fs, "usage: tool\n", []string{"--name", "y"})
	if err != nil || *v != "y" || !set["name"] || set["quiet"] {
		t.Fatalf("Parse = %v, %v, name %q", set, err, *v)
	}
	fs, _ = newFS()
	_, err = Parse(fs, "", []string{"extra"})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "unexpected argument extra (see tool -h)") {
		t.Fatalf("extra argument: %v", err)
	}
	fs, _ = newFS()
	if _, err = Parse(fs, "", []string{"--nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown flag: %v", err)
	}
	if _, err := Level("tool", "loud"); !errors.As(err, &ue) {
		t.Fatalf("Level(loud) = %v", err)
	}
	if l, err := Level("tool", "debug"); err != nil || l.String() != "DEBUG" {
		t.Fatalf("Level(debug) = %v, %v", l, err)
	}
}
