package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFactoryResetErasesAtStart(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"journal.db", "identity/key.pem", "timeclockd.log", "conf/clock.json"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o700)
		os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600)
	}
	if done, err := FinishFactoryReset(dir); done || err != nil {
		t.Fatalf("erased without a request: %v %v", done, err)
	}
	if err := requestFactoryReset(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	done, err := FinishFactoryReset(dir, filepath.Join(dir, "timeclockd.log"), filepath.Join(dir, "conf", "clock.json"), "/etc/elsewhere.json", "")
	if !done || err != nil {
		t.Fatalf("Finish = %v, %v", done, err)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if strings.Join(left, ",") != "conf,timeclockd.log" {
		t.Fatalf("left after the reset: %v", left)
	}
	if done, _ := FinishFactoryReset(dir); done {
		t.Fatal("erased twice for one request")
	}
}
