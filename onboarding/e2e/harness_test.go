package e2e

import (
	"os"
	"regexp"
	"testing"

	"timeclock/internal/daemontest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

// passcodeRE finds the technician passcode in the activation mail.
var passcodeRE = regexp.MustCompile(`(?m)passcode[^\n]*:\s*\n\s*\n?\s+(\S+)\s*$`)

// wrong is a code that is not c.
func wrong(c string) string {
	d := (c[0]-'0'+1)%10 + '0'
	return string(d) + c[1:]
}
