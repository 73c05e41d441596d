package cloudsync

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/roster"
	"timeclock/agent/store"
	"timeclock/internal/await"
	"timeclock/internal/fakecloud"
	"timeclock/internal/syncbuf"
	"timeclock/onboarding/identity"
	"timeclock/wire"
)

const wait = 20 * time.Second

// fakeDevice records what the sync asked of the clock.
type fakeDevice struct {
	mu        sync.Mutex
	nickname  string
	tz        string
	renames   []string
	disabling *wire.Command
	finished  bool
	finalSeq  uint64
	changed   int
	failTZ    bool
}

func (d *fakeDevice) Facts() Facts {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Facts{Nickname: d.nickname, Model: "sim", Firmware: "test", Interface: "eth0", NTPSynced: true}
}

func (d *fakeDevice) Rename(n string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nickname = n
	d.renames = append(d.renames, n)
	return nil
}

func (d *fakeDevice) SetTimezone(tz string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failTZ {
		return errors.New("disk full")
	}
	d.tz = tz
	return nil
}

func (d *fakeDevice) BeginDisable(c wire.Command) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.disabling = &c
	return nil
}

func (d *fakeDevice) FinishDisable(seq uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.finished, d.finalSeq = true, seq
	return nil
}

func (d *fakeDevice) Changed() {
	d.mu.Lock()
	d.changed++
	d.mu.Unlock()
}

func (d *fakeDevice) get() fakeDevice {
	d.mu.Lock()
	defer d.mu.Unlock()
	return fakeDevice{nickname: d.nickname, tz: d.tz, renames: append([]string(nil), d.renames...),
		disabling: d.disabling, finished: d.finished, finalSeq: d.finalSeq}
}

// clock is a device: state file, journal, roster, identity and a syncer.
type clockRig struct {
	t       *testing.T
	dir     string
	st      *store.Store
	j       *journal.Journal
	roster  *roster.Keeper
	id      *identity.Identity
	dev     *fakeDevice
	punched chan struct{}
	logs    *syncbuf.Buffer
	s       *Syncer
	done    chan error
	cancel  context.CancelFunc
	reboots int
	mu      sync.Mutex
}

// testConfig waits little, so tests run in seconds.
func testConfig() Config {
	c := DefaultConfig()
	c.BackoffMin, c.BackoffMax = 10*time.Millisecond, 200*time.Millisecond
	c.ConnectTimeout = 3 * time.Second
	c.AckTimeout = 10 * time.Second
	c.KeepAlive = 2 * time.Second
	c.BatchSize = 500
	c.StatusGap = 100 * time.Millisecond
	return c
}

// newClock makes a clock onboarded to fc with device ID dev.
func newClock(t *testing.T, fc *fakecloud.Cloud, dev string) *clockRig {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	must(t, err)
	j, err := journal.Open(st, journal.Options{})
	must(t, err)
	ros, err := roster.Open(st)
	must(t, err)
	t.Cleanup(func() { j.Close(); st.Close() })
	id := fc.Onboard(t, dir, dev)
	return &clockRig{t: t, dir: dir, st: st, j: j, roster: ros, id: id, dev: &fakeDevice{nickname: "Front door"},
		punched: make(chan struct{}, 1), logs: &syncbuf.Buffer{}}
}

// punch appends n punches and signals the sync as the punch loop does.
func (c *clockRig) punch(n int) []journal.Punch {
	c.t.Helper()
	ps := make([]journal.Punch, n)
	for i := range ps {
		ps[i] = journal.Punch{Employee: "E" + strconv.Itoa(i%50), Name: "Worker", Kind: journal.KindIn,
			Time: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second), TZ: "UTC", ClockSet: true}
	}
	var out []journal.Punch
	for len(ps) > 0 {
		k := min(len(ps), 1000)
		got, err := c.j.AppendBatch(ps[:k])
		must(c.t, err)
		out = append(out, got...)
		ps = ps[k:]
	}
	select {
	case c.punched <- struct{}{}:
	default:
	}
	return out
}

// start runs the syncer with cfg (and opts applied).
func (c *clockRig) start(cfg Config, opts ...func(*Options)) {
	c.t.Helper()
	o := Options{
		Config: cfg, Identity: c.id, Journal: c.j, Roster: c.roster, Store: c.st, Device: c.dev,
		Punched: c.punched, Rand: rand.New(rand.NewPCG(1, 2)),
		Logger: slog.New(slog.NewTextHandler(c.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Reboot: func() error { c.mu.Lock(); c.reboots++; c.mu.Unlock(); return nil },
	}
	for _, f := range opts {
		f(&o)
	}
	s, err := New(o)
	must(c.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	c.s, c.cancel, c.done = s, cancel, make(chan error, 1)
	go func() { c.done <- s.Run(ctx) }()
	c.t.Cleanup(func() {
		c.stop()
		if c.t.Failed() {
			c.t.Logf("sync log:\n%s", c.logs.String())
		}
	})
}

// stop ends Run and returns its error.
func (c *clockRig) stop() error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	select {
	case err := <-c.done:
		c.done <- err // stop may be called again
		return err
	case <-time.After(wait):
		c.t.Fatal("sync did not stop")
		return nil
	}
}

func (c *clockRig) waitOnline() {
	c.t.Helper()
	await.True(c.t, wait, c.s.Online, "the clock never came online")
}

func (c *clockRig) waitDrained(fc *fakecloud.Cloud, n int) {
	c.t.Helper()
	await.True(c.t, wait, func() bool { return c.j.Pending() == 0 && fc.Stored() >= n },
		"pending %d, cloud stored %d of %d", c.j.Pending(), fc.Stored(), n)
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func jsonCmd(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// gate is a loopback port in front of the broker's TLS port: closed, it
// accepts connections and never answers (a filtering firewall); open, it
// forwards them.
type gate struct {
	ln     net.Listener
	to     string
	mu     sync.Mutex
	open   bool
	conns  []net.Conn
	wg     sync.WaitGroup
	dialed int
}

func newGate(t *testing.T, to string) *gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	g := &gate{ln: ln, to: to}
	g.wg.Add(1)
	go g.serve()
	t.Cleanup(func() {
		ln.Close()
		g.mu.Lock()
		for _, c := range g.conns {
			c.Close()
		}
		g.mu.Unlock()
		g.wg.Wait()
	})
	return g
}

func (g *gate) addr() string { return g.ln.Addr().String() }

func (g *gate) setOpen(open bool) {
	g.mu.Lock()
	g.open = open
	g.mu.Unlock()
}

func (g *gate) attempts() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.dialed
}

func (g *gate) serve() {
	defer g.wg.Done()
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		g.conns = append(g.conns, c)
		g.dialed++
		open := g.open
		g.mu.Unlock()
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			if !open {
				io.Copy(io.Discard, c)
				return
			}
			up, err := net.Dial("tcp", g.to)
			if err != nil {
				c.Close()
				return
			}
			g.mu.Lock()
			g.conns = append(g.conns, up)
			g.mu.Unlock()
			go io.Copy(up, c)
			io.Copy(c, up)
			c.Close()
			up.Close()
		}()
	}
}

func countLog(c *clockRig, text string) int { return strings.Count(c.logs.String(), text) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
