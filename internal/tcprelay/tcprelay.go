// Package tcprelay is test support: a TCP relay on the host's loopback in
// front of a server (TLS passes through untouched) that a test can cut,
// block, or block once a download went through, to play a network that
// fails at a chosen moment.
package tcprelay

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Relay forwards every connection to its target.
type Relay struct {
	ln     net.Listener
	target string
	// CutAt > 0: the next connection carrying more bytes from the target
	// is cut there (once); Cuts counts those cuts.
	CutAt atomic.Int64
	Cuts  atomic.Int64
	// Blocked: new connections are closed at once.
	Blocked atomic.Bool
	// BlockAfter > 0: once a connection carried this many bytes from the
	// target, every later connection is refused (Blocked is set).
	BlockAfter atomic.Int64
	wg         sync.WaitGroup
}

// Start listens on 127.0.0.1 (a free port) and relays to target until the
// test ends.
func Start(t testing.TB, target string) *Relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{ln: ln, target: target}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if r.Blocked.Load() {
				c.Close()
				continue
			}
			r.wg.Add(1)
			go func() { defer r.wg.Done(); r.pipe(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); r.wg.Wait() })
	return r
}

// Port is the relay's port on 127.0.0.1.
func (r *Relay) Port() int { return r.ln.Addr().(*net.TCPAddr).Port }

func (r *Relay) pipe(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", r.target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { io.Copy(s, c); s.(*net.TCPConn).CloseWrite() }()
	var n int64
	buf := make([]byte, 32<<10)
	for {
		k, err := s.Read(buf)
		if k > 0 {
			if cut := r.CutAt.Load(); cut > 0 && n+int64(k) > cut {
				c.Write(buf[:cut-n])
				r.CutAt.Store(0)
				r.Cuts.Add(1)
				return
			}
			if _, werr := c.Write(buf[:k]); werr != nil {
				return
			}
			n += int64(k)
		}
		if err != nil {
			if b := r.BlockAfter.Load(); b > 0 && n >= b {
				r.Blocked.Store(true)
			}
			return
		}
	}
}
