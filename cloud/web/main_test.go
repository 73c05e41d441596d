package web

import (
	"os"
	"testing"

	"timeclock/internal/browsertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.CloseShared()
	os.Exit(code)
}
