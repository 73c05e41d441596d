package sim

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"timeclock/hal"
)

// maxLine bounds one control command; longer lines get an error reply.
const maxLine = 4096

// maxWait bounds the "wait" command.
const maxWait = time.Minute

// Client is a client of the control socket on an open connection: one
// command line, one JSON reply (the tests' driver, and tools on a test
// machine). The agent itself never uses it.
type Client struct {
	c net.Conn
	r *bufio.Reader
}

// NewClient is a client on c.
func NewClient(c net.Conn) *Client { return &Client{c: c, r: bufio.NewReader(c)} }

// Do sends one command line and decodes its reply; the exchange must end
// within timeout. A reply with "ok": false is not an error here.
func (cl *Client) Do(line string, timeout time.Duration) (map[string]any, error) {
	cl.c.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintf(cl.c, "%s\n", line); err != nil {
		return nil, fmt.Errorf("sim %q: %w", line, err)
	}
	l, err := cl.r.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("sim %q: reply: %w", line, err)
	}
	var m map[string]any
	if err := json.Unmarshal(l, &m); err != nil {
		return nil, fmt.Errorf("sim %q: reply %q: %w", line, l, err)
	}
	return m, nil
}

// Listen opens the control socket at path, replacing a stale socket file
// left by a crashed run. It refuses to replace anything that is not a socket.
func Listen(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("sim: control socket %s: exists and is not a socket", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("sim: control socket %s: another clock is listening on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("sim: remove stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("sim: control socket: %w", err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("sim: control socket: %w", err)
	}
	return ln, nil
}

// Serve answers control commands on ln until ctx is done, then closes ln and
// every connection and waits for their goroutines.
//
// The protocol: one command per line, one JSON object per reply line, always
// with "ok"; a failed command has "error" and leaves the connection open.
//
//	key K            press a key (0-9, *, #, enter, clear, f1-f4, up, down)
//	badge NUMBER     swipe a badge with that card number
//	badge FC:NUMBER  the same with a facility code (badge 12:34567)
//	finger ID        place the finger enrolled as ID on the fingerprint sensor
//	                 (an unknown finger when nobody enrolled it)
//	screen           {"lines": [...]} the display lines
//	leds             {"green","red","buzzer","beeps","backlight"}
//	status           the agent's status keys (those of the console's status)
//	wait MS TEXT     reply once a screen line contains TEXT, or fail after MS
//	help             the command list
func (b *Board) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("sim: accept: %w", err)
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.serveConn(ctx, c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			c.Close()
		}()
	}
}

func (b *Board) serveConn(ctx context.Context, c io.ReadWriter) {
	r := bufio.NewReaderSize(c, maxLine)
	enc := json.NewEncoder(c)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Discard the rest of the over-long line, then report it.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			if err != nil && len(line) == 0 {
				return
			}
			if enc.Encode(fail(fmt.Errorf("line too long (at most %d bytes)", maxLine))) != nil {
				return
			}
			continue
		}
		if len(line) == 0 && err != nil {
			return
		}
		reply := b.Exec(ctx, string(line))
		if reply == nil { // blank line
			continue
		}
		if enc.Encode(reply) != nil {
			return
		}
		if err != nil {
			return
		}
	}
}

// Reply is one control-socket answer.
type Reply map[string]any

func fail(err error) Reply { return Reply{"ok": false, "error": err.Error()} }
func okReply() Reply       { return Reply{"ok": true} }

// Exec runs one control command line and returns its reply; nil for a blank line.
func (b *Board) Exec(ctx context.Context, line string) Reply {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil
	}
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch strings.ToLower(cmd) {
	case "key":
		k, err := hal.ParseKey(arg)
		if err != nil {
			return fail(err)
		}
		if err := b.Press(k); err != nil {
			return fail(err)
		}
		return okReply()
	case "badge":
		if err := b.Swipe(arg); err != nil {
			return fail(err)
		}
		return okReply()
	case "finger":
		if err := b.Finger(arg); err != nil {
			return fail(err)
		}
		return okReply()
	case "screen":
		return Reply{"ok": true, "lines": b.Screen()}
	case "leds":
		l := b.Lights()
		return Reply{"ok": true, "green": l.Green, "red": l.Red, "buzzer": l.Buzzer, "beeps": l.Beeps, "backlight": l.Backlight}
	case "status":
		st := b.Status()
		if st == nil {
			return fail(errors.New("status not available: the agent is not running"))
		}
		r := Reply{"ok": true}
		for k, v := range st {
			if k != "ok" {
				r[k] = v
			}
		}
		return r
	case "wait":
		return b.wait(ctx, arg)
	case "help":
		return Reply{"ok": true, "commands": []string{"key K", "badge NUMBER", "badge FC:NUMBER", "finger ID", "screen", "leds", "status", "wait MS TEXT", "help"}}
	}
	return fail(fmt.Errorf("unknown command %q (try help)", cmd))
}

// waitTime is a wait of ms milliseconds, at most maxWait (checked before
// multiplying: a huge ms would overflow to a wait of no time).
func waitTime(ms int) time.Duration {
	if ms >= int(maxWait/time.Millisecond) {
		return maxWait
	}
	return time.Duration(ms) * time.Millisecond
}

// wait blocks until a screen line contains the text, or the timeout passes.
func (b *Board) wait(ctx context.Context, arg string) Reply {
	msStr, text, _ := strings.Cut(arg, " ")
	ms, err := strconv.Atoi(msStr)
	if err != nil || ms < 0 || text == "" {
		return fail(errors.New("usage: wait MS TEXT"))
	}
	d := waitTime(ms)
	ch, stop := b.Watch()
	defer stop()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		lines := b.Screen()
		for _, l := range lines {
			if strings.Contains(l, text) {
				return Reply{"ok": true, "lines": lines}
			}
		}
		select {
		case <-ch:
		case <-timer.C:
			return Reply{"ok": false, "error": fmt.Sprintf("timeout: %q not on screen after %v", text, d), "lines": lines}
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
}
