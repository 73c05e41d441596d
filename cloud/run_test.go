package cloud

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// A start-up step that fails closes what the earlier steps opened: here
// the MQTT port is busy, so the HTTP and HTTPS ports bound before it must
// be free again, and the store must be closed so a second Run can open it.
func TestRunFailingStepReleasesEarlierOnes(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := DefaultConfig(true)
	cfg.DataDir = t.TempDir()
	cfg.HTTPAddr, cfg.HTTPSAddr = freeAddr(t), freeAddr(t)
	cfg.MQTTAddr, cfg.MQTTWSAddr = busy.Addr().String(), "127.0.0.1:0"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range 2 { // the second run finds the store unlocked
		err := Run(context.Background(), cfg, Options{Log: log})
		if err == nil || !strings.Contains(err.Error(), "--mqtt "+busy.Addr().String()) {
			t.Fatalf("Run with a busy MQTT port: %v", err)
		}
		for _, addr := range []string{cfg.HTTPAddr, cfg.HTTPSAddr} {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatalf("%s still bound after a failed start: %v", addr, err)
			}
			ln.Close()
		}
	}
}

// freeAddr is a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
