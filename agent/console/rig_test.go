package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"timeclock/agent/logring"
	"timeclock/clock"
	"timeclock/internal/await"
	"timeclock/internal/syncbuf"
)

const (
	techPass = "2468"
	timeout  = 5 * time.Second
)

var (
	hashOnce sync.Once
	techHash string
)

// testHash is a cheap hash of techPass (bcrypt's lowest cost keeps the
// tests fast; the console reads the cost from the hash).
func testHash(t testing.TB) string {
	hashOnce.Do(func() {
		h, err := HashPasscodeCost(techPass, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		techHash = h
	})
	return techHash
}

// fakeAgent is the clock as the console sees it; it records what the
// console asked of it.
type fakeAgent struct {
	mu         sync.Mutex
	pending    int
	pendErr    error
	hash       string
	reboots    int
	resets     int
	onboards   int
	netcheckOn chan struct{} // closed when a netcheck starts; it runs until cancelled
	netErr     error
	notice     bool // the storage recovery notice shows
	clears     int
	setTimes   []time.Time // SetTime calls
	zone       string      // SetZone
}

func (f *fakeAgent) Status() []Field {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []Field{{"state", "idle"}, {"pending", fmt.Sprint(f.pending)}, {"synced", "true"}, {"network", "eth0"}, {"model", "sim"}, {"version", "test"}}
}
func (f *fakeAgent) Time() []Field {
	return []Field{{"local", "2026-11-23 03:59:30 EST"}, {"zone", "America/New_York"}, {"synced", "true"}}
}
func (f *fakeAgent) Config() []Field {
	return []Field{{"state_dir", "/var/lib/timeclock"}, {"cloud_url", ""}, {"api_token", "tok-5551212"}}
}
func (f *fakeAgent) Punches(ctx context.Context, which PunchList, n int) ([]string, error) {
	return nil, Missing("the punch journal")
}
func (f *fakeAgent) PendingPunches() (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pending, f.pendErr
}
func (f *fakeAgent) Sync(ctx context.Context, out io.Writer) error { return Missing("the cloud sync") }
func (f *fakeAgent) NetCheck(ctx context.Context, out io.Writer) error {
	if f.netcheckOn == nil {
		return Missing("the network check")
	}
	fmt.Fprintln(out, "link eth0: up")
	close(f.netcheckOn)
	<-ctx.Done()
	fmt.Fprintln(out, "network check stopped")
	return ctx.Err()
}
func (f *fakeAgent) Reboot(ctx context.Context) error {
	f.mu.Lock()
	f.reboots++
	f.mu.Unlock()
	return nil
}
func (f *fakeAgent) FactoryReset(ctx context.Context) error {
	f.mu.Lock()
	f.resets++
	f.mu.Unlock()
	return nil
}
func (f *fakeAgent) Onboard(ctx context.Context) error {
	f.mu.Lock()
	f.onboards++
	f.mu.Unlock()
	return Missing("onboarding")
}
func (f *fakeAgent) Storage() ([]Field, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []Field{{"path", "/var/lib/timeclock/state.db"}, {"recovered", fmt.Sprint(f.notice)}, {"pending", fmt.Sprint(f.pending)}}, nil
}
func (f *fakeAgent) StorageNotice() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return "A damaged state file was set aside.", f.notice
}
func (f *fakeAgent) ClearStorageNotice() (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clears++
	was := f.notice
	f.notice = false
	return was, nil
}
func (f *fakeAgent) PasscodeHash() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hash == "" {
		return "", Missing("the device identity")
	}
	return f.hash, nil
}

func (f *fakeAgent) SetTime(ctx context.Context, t time.Time) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setTimes = append(f.setTimes, t)
	return time.Date(2016, 12, 4, 1, 2, 3, 0, time.UTC), nil
}
func (f *fakeAgent) SetZone(zone string) error {
	if _, err := time.LoadLocation(zone); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.zone = zone
	return nil
}
func (f *fakeAgent) Zone() *time.Location {
	loc, _ := time.LoadLocation("America/Chicago")
	return loc
}

func (f *fakeAgent) counts() (reboots, resets, onboards int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reboots, f.resets, f.onboards
}

var errUnplugged = errors.New("input/output error (unplugged)")

// fakePort is one connection to the console: the test types into it and
// reads what the console wrote. Writes never block.
type fakePort struct {
	stalled atomic.Bool // writes time out, as to a terminal that stopped reading
	r       *io.PipeReader
	w       *io.PipeWriter
	mu      sync.Mutex
	b       bytes.Buffer // guarded by mu
	at      int          // read cursor for expect, test goroutine only
}

func newFakePort() *fakePort {
	r, w := io.Pipe()
	return &fakePort{r: r, w: w}
}

func (p *fakePort) Read(b []byte) (int, error) { return p.r.Read(b) }
func (p *fakePort) Write(b []byte) (int, error) {
	if p.stalled.Load() {
		return 0, os.ErrDeadlineExceeded
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.Write(b)
}
func (p *fakePort) Close() error { return p.r.CloseWithError(errors.New("port closed")) }

// out is everything the console wrote.
func (p *fakePort) out() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.String()
}

// unplug makes the console's next read fail as a vanished device does.
func (p *fakePort) unplug() { p.w.CloseWithError(errUnplugged) }

// rig runs a console on fake ports with a fake clock.
type rig struct {
	t       *testing.T
	clk     *clock.Fake
	agent   *fakeAgent
	ring    *logring.Ring
	logBuf  *syncbuf.Buffer
	con     *Console
	mu      sync.Mutex
	ports   []*fakePort // guarded by mu
	plugged bool        // guarded by mu
	opens   int         // guarded by mu; failed opens included
	stop    func()
}

func newRig(t *testing.T, mod func(*Options)) *rig { return newRigWith(t, true, mod) }

// newRigWith starts the console with its port plugged in or not.
func newRigWith(t *testing.T, plugged bool, mod func(*Options)) *rig {
	t.Helper()
	r := &rig{
		t: t, clk: clock.NewFake(time.Date(2026, 11, 23, 8, 59, 30, 0, time.UTC)),
		agent: &fakeAgent{}, ring: logring.New(200), logBuf: &syncbuf.Buffer{}, plugged: plugged,
	}
	log := slog.New(logring.Tee(
		slog.NewTextHandler(r.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: logring.Redact}),
		r.ring.Handler(slog.LevelDebug),
	))
	cfg := DefaultConfig()
	cfg.PasscodeHash = testHash(t)
	o := Options{
		Config: cfg, Port: "test", Agent: r.agent, Logs: r.ring, Logger: log, Clock: r.clk,
		Open: func(ctx context.Context) (io.ReadWriteCloser, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.opens++
			if !r.plugged {
				return nil, errors.New("no such device")
			}
			p := newFakePort()
			r.ports = append(r.ports, p)
			return p, nil
		},
	}
	if mod != nil {
		mod(&o)
	}
	con, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.con = con
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- con.Run(ctx) }()
	r.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(r.stop)
	return r
}

// port waits for the n-th opened port (1-based).
func (r *rig) port(n int) *fakePort {
	r.t.Helper()
	return await.Value(r.t, timeout, func() (*fakePort, bool) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.ports) < n {
			return nil, false
		}
		return r.ports[n-1], true
	}, "port %d never opened", n)
}

func (r *rig) setPlugged(on bool) {
	r.mu.Lock()
	r.plugged = on
	r.mu.Unlock()
}

func (r *rig) openCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opens
}

// typ sends bytes as the technician's terminal would.
func (r *rig) typ(p *fakePort, s string) {
	r.t.Helper()
	if _, err := p.w.Write([]byte(s)); err != nil {
		r.t.Fatalf("typing %q: %v", s, err)
	}
}

// expect waits until the output after the cursor contains text and moves
// the cursor past it. It returns the output from the cursor to the text's end.
func (r *rig) expect(p *fakePort, text string) string {
	r.t.Helper()
	var got string
	ok := false
	defer func() {
		if !ok {
			r.t.Logf("console output so far:\n%s", strings.ReplaceAll(p.out()[p.at:], "\r", ""))
		}
	}()
	await.True(r.t, timeout, func() bool {
		got = p.out()[p.at:]
		return strings.Contains(got, text)
	}, "console never wrote %q", text)
	ok = true
	end := strings.Index(got, text) + len(text)
	p.at += end
	return got[:end]
}

// login logs in with the technician passcode on port p.
func (r *rig) login(p *fakePort) {
	r.t.Helper()
	r.expect(p, "passcode: ")
	r.typ(p, techPass+"\r")
	r.expect(p, "Logged in.")
	r.expect(p, "timeclock> ")
}

// run types a command and returns its output up to the next prompt.
func (r *rig) run(p *fakePort, line string) string {
	r.t.Helper()
	r.typ(p, line+"\r")
	return strings.ReplaceAll(r.expect(p, "timeclock> "), "\r\n", "\n")
}
