package e2e

import (
	"os"
	"regexp"
	"testing"

	"timeclock/internal/daemontest"
	harness "timeclock/internal/e2e"
)

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

// passcodeRE finds the technician passcode in the activation mail.
var passcodeRE = regexp.MustCompile(`(?m)passcode[^\n]*:\s*\n\s*\n?\s+(\S+)\s*$`)

// toCode walks from the first screen to the code entry.
func toCode(k *harness.Clock, c *harness.Cloud) {
	k.Wait("Company ID")
	k.Type(c.Company)
	k.Keys("enter")
	k.Wait("Demo Company")
	k.Keys("enter")
	k.Wait("Expires in")
}

// activate types a code and confirms the timezone, ending at the idle
// screen; it returns the status.
func activate(k *harness.Clock, code string) map[string]any {
	k.Type(code)
	k.Keys("enter")
	k.Wait("America/Chicago")
	k.Keys("enter")
	k.Wait("Badge or PIN")
	return k.Status()
}

// wrong is a code that is not c.
func wrong(c string) string {
	d := (c[0]-'0'+1)%10 + '0'
	return string(d) + c[1:]
}
