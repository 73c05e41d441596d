package portloop

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"timeclock/internal/await"
)

// pipes hands out pipe read ends; the test writes to the newest.
type pipes struct {
	mu    sync.Mutex
	w     *io.PipeWriter
	fails int // opens to fail first
	opens int
}

func (p *pipes) open() (io.ReadCloser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opens++
	if p.fails > 0 {
		p.fails--
		return nil, errors.New("no such device")
	}
	r, w := io.Pipe()
	p.w = w
	return r, nil
}

func (p *pipes) writer() *io.PipeWriter {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.w
}

type sink struct {
	mu  sync.Mutex
	got bytes.Buffer
}

func (s *sink) add(b []byte) { s.mu.Lock(); s.got.Write(b); s.mu.Unlock() }
func (s *sink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got.String()
}

func TestReconnectsAfterFailure(t *testing.T) {
	p := &pipes{}
	first, _ := p.open()
	var s sink
	l := Start(first, p.open, s.add, Opts{Name: "test", Backoff: time.Millisecond})
	defer l.Halt()
	p.writer().Write([]byte("one "))
	await.True(t, 5*time.Second, func() bool { return s.String() == "one " }, "first write not read")
	p.mu.Lock()
	p.fails = 3
	p.mu.Unlock()
	p.writer().CloseWithError(errors.New("unplugged"))
	await.True(t, 5*time.Second, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.opens == 5 && l.Connected() }, "not reconnected after 3 failed opens")
	p.writer().Write([]byte("two"))
	await.True(t, 5*time.Second, func() bool { return s.String() == "one two" }, "write after reconnect not read: %q", s.String())
}

func TestHaltWhileReconnecting(t *testing.T) {
	p := &pipes{fails: 1 << 30}
	r, w := io.Pipe()
	l := Start(r, p.open, func([]byte) {}, Opts{Backoff: time.Hour})
	w.CloseWithError(errors.New("gone"))
	await.True(t, 5*time.Second, func() bool { return !l.Connected() }, "never noticed the port went")
	if err := l.Halt(); err != nil {
		t.Fatal(err)
	}
}

func TestHaltUnblocksRead(t *testing.T) {
	r, _ := io.Pipe()
	l := Start(r, func() (io.ReadCloser, error) { return nil, errors.New("unused") }, func([]byte) {}, Opts{})
	if err := l.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := l.Halt(); err != nil {
		t.Fatal(err)
	}
}
