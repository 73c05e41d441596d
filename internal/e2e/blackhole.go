package e2e

import (
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"timeclock/internal/await"
)

// Hole is a loopback listener that accepts connections and never answers:
// a firewall that swallows a port's packets, as far as a client can tell.
type Hole struct {
	ln       net.Listener
	accepted atomic.Int64
}

// Blackhole listens on 127.0.0.1:port (0: a free one) until the test ends.
func Blackhole(t testing.TB, port int) *Hole {
	t.Helper()
	var ln net.Listener
	var err error
	// The port may have been let go of a moment ago.
	await.True(t, Wait, func() bool {
		ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		return err == nil
	}, "blackhole on port %d: %v", port, err)
	h := &Hole{ln: ln}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return h
}

// Addr is the listening address.
func (h *Hole) Addr() string { return h.ln.Addr().String() }

// Accepted is how many connections came.
func (h *Hole) Accepted() int { return int(h.accepted.Load()) }
