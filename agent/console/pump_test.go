package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// gatePort is a port whose writes wait for the test to open a gate, as a
// slow line does.
type gatePort struct {
	r    *io.PipeReader
	w    *io.PipeWriter
	gate chan struct{}
	mu   sync.Mutex
	out  bytes.Buffer
}

func newGatePort() *gatePort {
	r, w := io.Pipe()
	return &gatePort{r: r, w: w, gate: make(chan struct{}, 1000)}
}

func (g *gatePort) Read(b []byte) (int, error) { return g.r.Read(b) }
func (g *gatePort) Write(b []byte) (int, error) {
	<-g.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.Write(b)
}
func (g *gatePort) Close() error { return g.r.Close() }
func (g *gatePort) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.String()
}

func TestWriteWaitHoldsBackCommandsNotTheSession(t *testing.T) {
	g := newGatePort()
	p := startPump(g, slog.New(slog.DiscardHandler), func() {})
	big := bytes.Repeat([]byte("x"), maxQueued)
	if err := p.WriteWait(context.Background(), big); err != nil {
		t.Fatal(err)
	}
	// The queue is full and the line is stuck: a command waits ...
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.WriteWait(ctx, big) }()
	// ... while the session's echo is taken at once.
	p.Write([]byte("echo"))
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteWait on a full queue = %v, want context.Canceled", err)
	}
	// Stop lets everything queued out before closing the port.
	close(g.gate)
	p.Stop()
	if out := g.String(); len(out) != maxQueued+4 || !strings.HasSuffix(out, "echo") {
		t.Fatalf("wrote %d bytes ending %q", len(out), out[max(0, len(out)-8):])
	}
}

func TestReadFailureEndsAndUpIsCalledOnce(t *testing.T) {
	g := newGatePort()
	close(g.gate)
	ups := 0
	p := startPump(g, slog.New(slog.DiscardHandler), func() { ups++ })
	go g.w.Write([]byte("ab"))
	select {
	case b := <-p.In():
		if string(b) != "ab" {
			t.Fatalf("read %q", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no input")
	}
	p.Write([]byte("hi"))
	g.w.CloseWithError(errors.New("unplugged"))
	select {
	case err := <-p.Err():
		if err == nil || !strings.Contains(err.Error(), "unplugged") {
			t.Fatalf("Err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("read failure not reported")
	}
	p.Stop()
	if ups != 1 {
		t.Fatalf("up called %d times", ups)
	}
}
