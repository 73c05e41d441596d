// Package portloop owns a port that may vanish: a USB serial adapter or a
// USB keyboard-wedge reader pulled out and plugged back. It reads chunks
// and hands them on, and when a read fails it closes the port and opens it
// again with backoff until it works or the loop is halted.
package portloop

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Opener opens the port; it is called again after the port failed.
type Opener func() (io.ReadCloser, error)

// Opts configures a loop.
type Opts struct {
	// Name names the port in logs, e.g. "/dev/ttyUSB0".
	Name string
	// Backoff is the first wait between failed opens; it doubles up to
	// MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Logger gets the port's state changes; nil discards them.
	Logger *slog.Logger
	// ChunkSize is the read buffer size.
	ChunkSize int
}

// Loop reads a port until halted.
type Loop struct {
	open   Opener
	handle func([]byte)
	o      Opts
	log    *slog.Logger
	done   chan struct{}
	wg     sync.WaitGroup
	halt   sync.Once

	mu   sync.Mutex
	port io.ReadCloser // guarded by mu; nil while reconnecting
}

// Start reads port (already open) on a goroutine, calling handle with each
// chunk read. handle runs on that goroutine only.
func Start(port io.ReadCloser, open Opener, handle func([]byte), o Opts) *Loop {
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.Backoff {
		o.MaxBackoff = max(o.Backoff, 5*time.Second)
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 256
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Loop{open: open, handle: handle, o: o, log: log, done: make(chan struct{}), port: port}
	l.wg.Add(1)
	go l.run(port)
	return l
}

// Connected reports whether the port is open.
func (l *Loop) Connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.port != nil
}

// Halt closes the port and waits for the loop to end.
func (l *Loop) Halt() error {
	var err error
	l.halt.Do(func() {
		l.mu.Lock()
		close(l.done)
		if l.port != nil {
			err = l.port.Close() // unblocks a pending Read
			l.port = nil
		}
		l.mu.Unlock()
		l.wg.Wait()
	})
	if err != nil {
		return fmt.Errorf("%s: close: %w", l.o.Name, err)
	}
	return nil
}

func (l *Loop) halted() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *Loop) run(port io.ReadCloser) {
	defer l.wg.Done()
	buf := make([]byte, l.o.ChunkSize)
	for {
		n, err := port.Read(buf)
		if n > 0 {
			l.handle(buf[:n])
		}
		if err == nil {
			continue // a read timeout returns 0, nil: read on
		}
		l.mu.Lock()
		if l.halted() {
			l.mu.Unlock()
			return // Halt closed the port
		}
		port.Close()
		l.port = nil
		l.mu.Unlock()
		l.log.Warn(fmt.Sprintf("%s: connected -> reconnecting (%v)", l.o.Name, err))
		if port = l.reopen(); port == nil {
			return
		}
	}
}

// reopen opens the port again, waiting longer after each failure; nil
// when halted first.
func (l *Loop) reopen() io.ReadCloser {
	wait := time.Duration(0)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for attempt := 1; ; attempt++ {
		t.Reset(wait)
		select {
		case <-l.done:
			return nil
		case <-t.C:
		}
		p, err := l.open()
		if err == nil {
			l.mu.Lock()
			if l.halted() {
				l.mu.Unlock()
				p.Close()
				return nil
			}
			l.port = p
			l.mu.Unlock()
			l.log.Info(fmt.Sprintf("%s: reconnecting -> connected (attempt %d)", l.o.Name, attempt))
			return p
		}
		if attempt == 1 {
			l.log.Debug(fmt.Sprintf("%s: reopen failed, retrying with backoff", l.o.Name), "err", err)
		}
		if wait == 0 {
			wait = l.o.Backoff
		} else {
			wait = min(2*wait, l.o.MaxBackoff)
		}
	}
}
