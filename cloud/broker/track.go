package broker

import (
	"net"
	"sync"
)

// connSet is a listener's live connections. Closing a listener closes them
// itself and waits until the broker has let go of each one, instead of
// handing mochi its close-clients callback: that callback
// (Clients.GetByListener) takes the clients' read lock twice, and a client
// disconnecting at that moment (its Delete waiting for the write lock in
// between) deadlocks the broker's Close for good (mochi-mqtt v2.7.9).
type connSet struct {
	mu     sync.Mutex
	closed bool
	live   map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// add tracks c until done; false when the listener is closing (the caller
// closes c and lets go of it).
func (s *connSet) add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.live == nil {
		s.live = make(map[net.Conn]struct{})
	}
	s.live[c] = struct{}{}
	s.wg.Add(1)
	return true
}

// done is called once the broker has returned from c.
func (s *connSet) done(c net.Conn) {
	s.mu.Lock()
	delete(s.live, c)
	s.mu.Unlock()
	s.wg.Done()
}

// closeAll refuses new connections, closes the live ones and waits until
// the broker has finished with every one of them. It may be called again.
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	for c := range s.live {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
