// Package mosquittotest runs a real Mosquitto for tests: configured by
// cloud/mosquitto.Generate with the test's CA, on free loopback ports, in
// the test's temporary directory, stopped when the test ends.
package mosquittotest

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"timeclock/cloud/mosquitto"
	"timeclock/cloud/pki"
	"timeclock/internal/await"
	"timeclock/internal/syncbuf"
	"timeclock/internal/testenv"
)

// Broker is a Mosquitto process the test controls.
type Broker struct {
	Dir     string // the generated directory (mosquitto.conf, acl, crl.pem, ...)
	TLSAddr string // 127.0.0.1:port of MQTT over TLS
	WSAddr  string // 127.0.0.1:port of MQTT over secure WebSocket
	bin     string

	mu   sync.Mutex
	cmd  *exec.Cmd     // guarded by mu
	done chan struct{} // closed when cmd exited
	out  *syncbuf.Buffer
}

// Bin returns the mosquitto executable, or skips (fails under make test).
func Bin(t testing.TB) string {
	t.Helper()
	if os.Getenv("TIMECLOCK_QEMU") != "" {
		t.Skip("needs mosquitto on the build host, not under qemu")
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto" // not on a non-root PATH
	}
	return testenv.Tool(t, "mosquitto")
}

// Start generates a configuration signed by ca and starts Mosquitto.
func Start(t testing.TB, ca *pki.CA) *Broker {
	t.Helper()
	bin := Bin(t)
	var lastErr error
	for try := 0; try < 3; try++ {
		b := &Broker{Dir: filepath.Join(t.TempDir(), "mosquitto"), TLSAddr: freeAddr(t), WSAddr: freeAddr(t), bin: bin}
		user := ""
		if os.Geteuid() == 0 {
			user = "root" // else Mosquitto drops to "mosquitto", who cannot read the test's files
		}
		cfg := mosquitto.Config{Dir: b.Dir, TLSAddr: b.TLSAddr, WSAddr: b.WSAddr, Hosts: []string{"localhost", "127.0.0.1"}, User: user}
		if err := mosquitto.Generate(ca, cfg, time.Now()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Kill(t) })
		if lastErr = b.start(t); lastErr == nil {
			return b
		}
		b.Kill(t)
	}
	t.Fatalf("mosquitto did not start: %v", lastErr)
	return nil
}

// start runs the process and waits until both ports accept.
func (b *Broker) start(t testing.TB) error {
	t.Helper()
	b.mu.Lock()
	b.out = &syncbuf.Buffer{}
	cmd := exec.Command(b.bin, "-c", filepath.Join(b.Dir, mosquitto.ConfFile))
	cmd.Stdout, cmd.Stderr = b.out, b.out
	if err := cmd.Start(); err != nil {
		b.mu.Unlock()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	b.cmd, b.done = cmd, done
	b.mu.Unlock()
	var exited bool
	await.True(t, 10*time.Second, func() bool {
		select {
		case <-done:
			exited = true
			return true
		default:
		}
		return dials(b.TLSAddr) && dials(b.WSAddr)
	}, "mosquitto never listened on %s and %s:\n%s", b.TLSAddr, b.WSAddr, b.Log())
	if exited {
		return errors.New(strings.TrimSpace(b.Log()))
	}
	return nil
}

func dials(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// PIDFile is Mosquitto's pid file (for the cloud's gate).
func (b *Broker) PIDFile() string { return filepath.Join(b.Dir, mosquitto.PIDFile) }

// TLSURL is the broker URL of MQTT over TLS, by name (the certificate's).
func (b *Broker) TLSURL() string { return "tls://localhost:" + port(b.TLSAddr) }

// WSURL is the broker URL of MQTT over secure WebSocket.
func (b *Broker) WSURL() string { return "wss://localhost:" + port(b.WSAddr) + "/mqtt" }

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// Log is what Mosquitto wrote since its last start.
func (b *Broker) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.out == nil {
		return ""
	}
	return b.out.String()
}

// Stop ends Mosquitto with SIGTERM (it saves its persistence file) and
// waits for it.
func (b *Broker) Stop(t testing.TB) { b.signal(t, syscall.SIGTERM) }

// Kill ends Mosquitto with SIGKILL (nothing saved) and waits for it.
func (b *Broker) Kill(t testing.TB) { b.signal(t, syscall.SIGKILL) }

func (b *Broker) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	b.mu.Lock()
	cmd, done := b.cmd, b.done
	b.cmd = nil
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		// Debian's Mosquitto 2.0.11 has been seen to sit on SIGTERM for
		// over 15 s on a loaded machine (its WebSocket service loop). The
		// tests need the broker gone, not its goodbye: kill it.
		cmd.Process.Kill()
		<-done
		t.Logf("mosquitto ignored %v for 5 s; killed it", sig)
	}
}

// Restart starts Mosquitto again on the same ports and directory.
func (b *Broker) Restart(t testing.TB) {
	t.Helper()
	b.Stop(t)
	if err := b.start(t); err != nil {
		t.Fatalf("mosquitto restart: %v", err)
	}
}

// Start again after Stop or Kill.
func (b *Broker) StartAgain(t testing.TB) {
	t.Helper()
	if err := b.start(t); err != nil {
		t.Fatalf("mosquitto start: %v", err)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
