// Package testenv says whether a test's outside tools and privileges are
// here. Outside CI a missing tool skips the test with the reason; with
// TIMECLOCK_REQUIRE_TOOLS=1 (set by make test, which installs them) it fails,
// so CI can never pass by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether missing tools fail tests instead of skipping them.
func Required() bool { return os.Getenv("TIMECLOCK_REQUIRE_TOOLS") == "1" }

// Tool returns the path of a command the test needs.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" is not installed (make test installs it)")
	}
	return p
}

// Root skips (or fails under make test) when the test is not running as root.
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if Required() {
			t.Skipf("needs root (%s); make test runs as root in CI", why)
		}
		t.Skipf("needs root (%s)", why)
	}
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
