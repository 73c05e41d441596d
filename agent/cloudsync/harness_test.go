package cloudsync

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
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
	"timeclock/cloud/broker"
	"timeclock/internal/await"
	"timeclock/internal/testpki"
	"timeclock/onboarding/identity"
	"timeclock/wire"
)

const wait = 20 * time.Second

// fakeCloud is the embedded broker with a minimal ingest: it keeps every
// punch by ID (a resend changes nothing, as the real cloud's store) and
// acks each batch with the IDs it stored.
type fakeCloud struct {
	t       *testing.T
	ca      *testpki.CA
	cert    tls.Certificate
	tlsAddr string
	wsAddr  string

	mu       sync.Mutex
	b        *broker.Broker
	refused  map[string]bool
	punches  map[string]wire.Punch // by ID
	received int                   // punches received, resends included
	batches  []wire.PunchBatch
	statuses []wire.Status
	results  []wire.CommandResult
	noAck    bool // store, but do not answer
}

func newFakeCloud(t *testing.T) *fakeCloud {
	t.Helper()
	ca := testpki.NewCA(t, "cloud CA")
	fc := &fakeCloud{t: t, ca: ca, cert: ca.Server(t, "localhost", "127.0.0.1"),
		refused: map[string]bool{}, punches: map[string]wire.Punch{}}
	fc.start("127.0.0.1:0", "127.0.0.1:0")
	t.Cleanup(fc.stop)
	return fc
}

func (fc *fakeCloud) start(tlsAddr, wsAddr string) {
	fc.t.Helper()
	var b *broker.Broker
	var err error
	// A restart takes the same ports; the old listeners may take a moment
	// to let go of them.
	await.True(fc.t, wait, func() bool {
		b, err = broker.Start(broker.Config{TLSAddr: tlsAddr, WSAddr: wsAddr, Certificate: fc.cert, ClientCAs: fc.ca.Pool(), Allowed: fc.allowed})
		return err == nil
	}, "broker start: %v", err)
	fc.mu.Lock()
	fc.b, fc.tlsAddr, fc.wsAddr = b, b.TLSAddr(), b.WSAddr()
	fc.mu.Unlock()
	must(fc.t, b.Subscribe(wire.TopicPrefix+"+/"+wire.TopicPunches, fc.onPunches))
	must(fc.t, b.Subscribe(wire.TopicPrefix+"+/"+wire.TopicStatus, func(_ string, p []byte) {
		st, err := wire.DecodeStatus(p)
		if err != nil {
			fc.t.Errorf("bad status: %v", err)
			return
		}
		fc.mu.Lock()
		fc.statuses = append(fc.statuses, st)
		fc.mu.Unlock()
	}))
	must(fc.t, b.Subscribe(wire.TopicPrefix+"+/"+wire.TopicCmdResult, func(_ string, p []byte) {
		r, err := wire.DecodeCommandResult(p)
		if err != nil {
			fc.t.Errorf("bad command result: %v", err)
			return
		}
		fc.mu.Lock()
		fc.results = append(fc.results, r)
		fc.mu.Unlock()
	}))
}

func (fc *fakeCloud) stop() {
	fc.mu.Lock()
	b := fc.b
	fc.b = nil
	fc.mu.Unlock()
	if b != nil {
		b.Close()
	}
}

// restart stops the broker (every session and retained message goes) and
// starts it again on the same ports.
func (fc *fakeCloud) restart() {
	fc.stop()
	fc.start(fc.tlsAddr, fc.wsAddr)
}

func (fc *fakeCloud) allowed(id string) bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return !fc.refused[id]
}

func (fc *fakeCloud) onPunches(topic string, payload []byte) {
	dev, _, _ := wire.SplitTopic(topic)
	pb, err := wire.DecodePunchBatch(payload)
	if err != nil {
		fc.t.Errorf("bad batch: %v", err)
		return
	}
	fc.mu.Lock()
	ack := wire.Ack{Batch: pb.Batch, IDs: []string{}}
	for _, p := range pb.Punches {
		fc.punches[p.ID] = p
		ack.IDs = append(ack.IDs, p.ID)
		ack.HighSeq = max(ack.HighSeq, p.Seq)
	}
	fc.received += len(pb.Punches)
	fc.batches = append(fc.batches, pb)
	b, noAck := fc.b, fc.noAck
	fc.mu.Unlock()
	if noAck || b == nil {
		return
	}
	b.Publish(wire.Topic(dev, wire.TopicAck), mustJSON(ack), false)
}

func (fc *fakeCloud) command(dev string, c wire.Command, retain bool) {
	fc.t.Helper()
	fc.mu.Lock()
	b := fc.b
	fc.mu.Unlock()
	must(fc.t, b.Publish(wire.Topic(dev, wire.TopicCmd), mustJSON(c), retain))
}

func (fc *fakeCloud) raw(dev, suffix string, payload []byte) {
	fc.t.Helper()
	fc.mu.Lock()
	b := fc.b
	fc.mu.Unlock()
	must(fc.t, b.Publish(wire.Topic(dev, suffix), payload, false))
}

func (fc *fakeCloud) stored() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return len(fc.punches)
}

func (fc *fakeCloud) result(id string) (wire.CommandResult, bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for i := len(fc.results) - 1; i >= 0; i-- {
		if fc.results[i].ID == id {
			return fc.results[i], true
		}
	}
	return wire.CommandResult{}, false
}

func (fc *fakeCloud) resultCount(id string) int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	n := 0
	for _, r := range fc.results {
		if r.ID == id {
			n++
		}
	}
	return n
}

func (fc *fakeCloud) lastStatus() (wire.Status, bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if len(fc.statuses) == 0 {
		return wire.Status{}, false
	}
	return fc.statuses[len(fc.statuses)-1], true
}

func (fc *fakeCloud) endpoints() wire.Endpoints {
	return wire.Endpoints{TLS: fc.tlsAddr, WebSocket: "wss://" + fc.wsAddr + "/mqtt"}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

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
	return Facts{Nickname: d.nickname, Model: "sim", Firmware: "test", Interface: "eth0", ClockSynced: true}
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
	book    *roster.Book
	id      *identity.Identity
	dev     *fakeDevice
	punched chan struct{}
	logs    *syncBuf
	s       *Syncer
	done    chan error
	cancel  context.CancelFunc
	reboots int
	mu      sync.Mutex
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
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
func newClock(t *testing.T, fc *fakeCloud, dev string) *clockRig {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	must(t, err)
	j, err := journal.Open(st, journal.Options{})
	must(t, err)
	book, err := roster.Open(st)
	must(t, err)
	t.Cleanup(func() { j.Close(); st.Close() })
	ids := identity.NewStore(dir)
	key, err := ids.Key()
	must(t, err)
	csrPEM, err := identity.NewCSR(key, "SN-"+dev)
	must(t, err)
	blk, _ := pem.Decode(csrPEM)
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	must(t, err)
	certPEM := fc.ca.SignCSR(t, csr, dev)
	cert, err := identity.ParseCertificate(certPEM)
	must(t, err)
	id := &identity.Identity{DeviceID: dev, Key: key, Cert: cert, CertPEM: certPEM, CAPEM: fc.ca.PEM(), MQTT: fc.endpoints(), Nickname: "Front door", Timezone: "UTC"}
	return &clockRig{t: t, dir: dir, st: st, j: j, book: book, id: id, dev: &fakeDevice{nickname: "Front door"},
		punched: make(chan struct{}, 1), logs: &syncBuf{}}
}

// punch appends n punches and signals the sync as the punch loop does.
func (c *clockRig) punch(n int) []journal.Punch {
	c.t.Helper()
	ps := make([]journal.Punch, n)
	for i := range ps {
		ps[i] = journal.Punch{Employee: "E" + strconv.Itoa(i%50), Name: "Worker", Kind: journal.KindIn,
			Time: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second), TZ: "UTC", ClockSynced: true}
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
		Config: cfg, Identity: c.id, Journal: c.j, Roster: c.book, Store: c.st, Device: c.dev,
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

func (c *clockRig) waitDrained(fc *fakeCloud, n int) {
	c.t.Helper()
	await.True(c.t, wait, func() bool { return c.j.Pending() == 0 && fc.stored() >= n },
		"pending %d, cloud stored %d of %d", c.j.Pending(), fc.stored(), n)
}

func (c *clockRig) waitResult(fc *fakeCloud, id string) wire.CommandResult {
	c.t.Helper()
	return await.Value(c.t, wait, func() (wire.CommandResult, bool) { return fc.result(id) }, "no result for command %s", id)
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
