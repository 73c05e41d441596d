package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
)

// Output limits. Command output waits for room beyond maxQueued (a slow
// terminal slows the command, never the clock); the session's own echo and
// prompts never wait and are dropped beyond maxEcho.
const (
	maxQueued = 32 << 10
	maxEcho   = 64 << 10
	chunk     = 512
	readSize  = 256
)

// pump moves bytes between one open port and the session: a reader and a
// writer goroutine, both owned by the pump and waited for in Stop, so the
// session never blocks on the port. The session's own output (echo,
// prompts) never waits; command output waits for room while the terminal
// is slow; a terminal that stops reading (writes time out) loses output,
// never the session.
type pump struct {
	rw  io.ReadWriteCloser
	log *slog.Logger

	in   chan []byte // input as read
	errc chan error  // the port's failure; buffered so the goroutines never wait on it

	mu      sync.Mutex
	buf     []byte // guarded by mu; output not yet written
	closing bool   // guarded by mu; stop has begun: the writer drains and leaves
	wake    chan struct{}
	room    chan struct{}

	up         func()
	upOnce     sync.Once
	quit       chan struct{}
	writerDone chan struct{}
	wg         sync.WaitGroup
}

// startPump starts moving bytes on an open port. up is called once, when bytes
// first move (the port works).
func startPump(rw io.ReadWriteCloser, log *slog.Logger, up func()) *pump {
	p := &pump{
		rw: rw, log: log, up: up,
		in:         make(chan []byte),
		errc:       make(chan error, 2),
		wake:       make(chan struct{}, 1),
		room:       make(chan struct{}, 1),
		quit:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	p.wg.Add(2)
	go p.readLoop()
	go p.writeLoop()
	return p
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (p *pump) fail(err error) {
	select {
	case p.errc <- err:
	default:
	}
}

func (p *pump) readLoop() {
	defer p.wg.Done()
	buf := make([]byte, readSize)
	for {
		n, err := p.rw.Read(buf)
		if n > 0 {
			p.upOnce.Do(p.up)
			select {
			case p.in <- bytes.Clone(buf[:n]):
			case <-p.quit:
				return
			}
		}
		if err != nil {
			p.fail(err)
			return
		}
		// n == 0 without an error is go.bug.st/serial's read timeout:
		// nothing arrived, read again.
	}
}

// In delivers what the port reads, one chunk per read.
func (p *pump) In() <-chan []byte { return p.in }

// Err delivers the port's failure (read or write); the session ends on it.
func (p *pump) Err() <-chan error { return p.errc }

// Write queues the session's own output; it never blocks.
func (p *pump) Write(b []byte) {
	if len(b) == 0 {
		return
	}
	p.mu.Lock()
	if !p.closing && len(p.buf)+len(b) <= maxEcho {
		p.buf = append(p.buf, b...)
	}
	p.mu.Unlock()
	signal(p.wake)
}

// WriteWait queues command output, waiting for room while more than
// maxQueued bytes are unwritten, until ctx is done.
func (p *pump) WriteWait(ctx context.Context, b []byte) error {
	for {
		p.mu.Lock()
		if p.closing {
			p.mu.Unlock()
			return errors.New("console: port closing")
		}
		if len(p.buf) == 0 || len(p.buf)+len(b) <= maxQueued {
			p.buf = append(p.buf, b...)
			p.mu.Unlock()
			signal(p.wake)
			return nil
		}
		p.mu.Unlock()
		select {
		case <-p.room:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.quit:
			return errors.New("console: port closed")
		}
	}
}

// take removes up to chunk bytes of queued output.
func (p *pump) take() ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := min(len(p.buf), chunk)
	if n == 0 {
		return nil, p.closing
	}
	out := bytes.Clone(p.buf[:n])
	p.buf = p.buf[:copy(p.buf, p.buf[n:])]
	return out, false
}

func (p *pump) putBack(b []byte) {
	p.mu.Lock()
	p.buf = append(b, p.buf...)
	p.mu.Unlock()
}

func (p *pump) dropQueued() {
	p.mu.Lock()
	p.buf = p.buf[:0]
	p.mu.Unlock()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &t) && t.Timeout()
}

func (p *pump) writeLoop() {
	defer p.wg.Done()
	defer close(p.writerDone)
	stalled := false
	for {
		b, done := p.take()
		if done {
			return
		}
		if b == nil {
			select {
			case <-p.wake:
			case <-p.quit:
				return
			}
			continue
		}
		n, err := p.rw.Write(b)
		if n > 0 {
			p.upOnce.Do(p.up)
		}
		switch {
		case err == nil:
			stalled = false
		case isTimeout(err) && n > 0:
			p.putBack(b[n:]) // slow, but moving
		case isTimeout(err):
			// Nobody is reading the other end (a terminal paused, a pty
			// without its reader): drop what is queued instead of holding
			// commands up; log once per stall.
			if !stalled {
				p.log.Warn("console output stalled: the terminal is not reading; output dropped")
				stalled = true
			}
			p.dropQueued()
		default:
			p.fail(err)
			return
		}
		signal(p.room)
	}
}

// Stop lets the writer send what is queued (a last "Rebooting."), then
// closes the port and waits for both goroutines.
func (p *pump) Stop() {
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	signal(p.wake)
	<-p.writerDone
	close(p.quit)
	p.rw.Close()
	p.wg.Wait()
}
