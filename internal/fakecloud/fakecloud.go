// Package fakecloud is a cloud for the device side's tests. Cloud is the
// cloud's real embedded broker (cloud/broker: TLS with client certificates,
// secure WebSocket, per-device ACL) on loopback, with a minimal ingest that
// keeps every punch by ID (a resend changes nothing, as the real cloud's
// store) and acks each batch with the IDs it stored; it also makes
// onboarded identities for clocks. API is the cloud's onboarding HTTPS API
// (company, code, activation, and the time on plain HTTP) for the clock's
// onboarding tests, package onboarding's and the agent's.
package fakecloud

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
	"timeclock/agent/store"

	"timeclock/cloud/broker"
	"timeclock/internal/await"
	"timeclock/internal/testpki"
	"timeclock/onboarding/identity"
	"timeclock/wire"
)

const wait = 20 * time.Second

// Cloud is a running fake cloud.
type Cloud struct {
	t    testing.TB
	CA   *testpki.CA
	cert tls.Certificate

	mu       sync.Mutex
	b        *broker.Broker // guarded by mu; nil while stopped
	tlsAddr  string
	wsAddr   string
	refused  map[string]bool
	punches  map[string]wire.Punch // by ID
	received int                   // punches received, resends included
	batches  []wire.PunchBatch
	statuses []wire.Status
	results  []wire.CommandResult
	noAck    bool
	held     []heldAck // acks not sent while noAck
}

type heldAck struct {
	dev string
	ack wire.Ack
}

// New starts a cloud on free loopback ports; it stops when the test ends.
func New(t testing.TB) *Cloud {
	t.Helper()
	ca := testpki.NewCA(t, "cloud CA")
	c := &Cloud{t: t, CA: ca, cert: ca.Server(t, "localhost", "127.0.0.1"),
		refused: map[string]bool{}, punches: map[string]wire.Punch{}}
	c.start("127.0.0.1:0", "127.0.0.1:0")
	t.Cleanup(c.Stop)
	return c
}

func (c *Cloud) start(tlsAddr, wsAddr string) {
	c.t.Helper()
	var b *broker.Broker
	var err error
	// A restart takes the same ports; the old listeners may take a moment
	// to let go of them.
	await.True(c.t, wait, func() bool {
		b, err = broker.Start(broker.Config{TLSAddr: tlsAddr, WSAddr: wsAddr, Certificate: c.cert, ClientCAs: c.CA.Pool(), Allowed: func(dev, _ string) bool { return c.allowed(dev) }})
		return err == nil
	}, "broker start: %v", err)
	c.mu.Lock()
	c.b, c.tlsAddr, c.wsAddr = b, b.TLSAddr(), b.WSAddr()
	c.mu.Unlock()
	c.must(b.Subscribe(wire.TopicPrefix+"+/"+wire.TopicPunches, c.onPunches))
	c.must(b.Subscribe(wire.TopicPrefix+"+/"+wire.TopicStatus, func(_ string, p []byte) {
		st, err := wire.DecodeStatus(p)
		if err != nil {
			c.t.Errorf("fakecloud: bad status: %v", err)
			return
		}
		c.mu.Lock()
		c.statuses = append(c.statuses, st)
		c.mu.Unlock()
	}))
	c.must(b.Subscribe(wire.TopicPrefix+"+/"+wire.TopicCmdResult, func(_ string, p []byte) {
		r, err := wire.DecodeCommandResult(p)
		if err != nil {
			c.t.Errorf("fakecloud: bad command result: %v", err)
			return
		}
		c.mu.Lock()
		c.results = append(c.results, r)
		c.mu.Unlock()
	}))
}

func (c *Cloud) must(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

// Stop stops the broker (sessions and retained messages go with it).
func (c *Cloud) Stop() {
	c.mu.Lock()
	b := c.b
	c.b = nil
	c.mu.Unlock()
	if b != nil {
		b.Close()
	}
}

// Start starts a stopped broker again on the same ports.
func (c *Cloud) Start() { c.start(c.tlsAddr, c.wsAddr) }

// Restart is Stop then Start.
func (c *Cloud) Restart() {
	c.Stop()
	c.Start()
}

// TLSAddr and WSAddr are the broker's listening addresses.
func (c *Cloud) TLSAddr() string { return c.tlsAddr }

// WSAddr is the secure WebSocket's address.
func (c *Cloud) WSAddr() string { return c.wsAddr }

// Endpoints are the broker's endpoints as activation hands them out.
func (c *Cloud) Endpoints() wire.Endpoints {
	return wire.Endpoints{TLS: c.tlsAddr, WebSocket: "wss://" + c.wsAddr + "/mqtt"}
}

func (c *Cloud) allowed(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.refused[id]
}

// Refuse makes the broker refuse (or admit again) a device.
func (c *Cloud) Refuse(dev string, refuse bool) {
	c.mu.Lock()
	c.refused[dev] = refuse
	c.mu.Unlock()
}

// HoldAcks stops acknowledging batches (they are still stored), or
// resumes and sends the acks held back.
func (c *Cloud) HoldAcks(hold bool) {
	c.mu.Lock()
	c.noAck = hold
	held, b := c.held, c.b
	if !hold {
		c.held = nil
	}
	c.mu.Unlock()
	if hold || b == nil {
		return
	}
	for _, h := range held {
		b.Publish(wire.Topic(h.dev, wire.TopicAck), mustJSON(h.ack), false)
	}
}

func (c *Cloud) onPunches(topic string, payload []byte) {
	dev, _, _ := wire.SplitTopic(topic)
	pb, err := wire.DecodePunchBatch(payload)
	if err != nil {
		c.t.Errorf("fakecloud: bad batch: %v", err)
		return
	}
	c.mu.Lock()
	ack := wire.Ack{Batch: pb.Batch, IDs: []string{}}
	for _, p := range pb.Punches {
		c.punches[p.ID] = p
		ack.IDs = append(ack.IDs, p.ID)
		ack.HighSeq = max(ack.HighSeq, p.Seq)
	}
	c.received += len(pb.Punches)
	c.batches = append(c.batches, pb)
	b, noAck := c.b, c.noAck
	if noAck {
		c.held = append(c.held, heldAck{dev: dev, ack: ack})
	}
	c.mu.Unlock()
	if noAck || b == nil {
		return
	}
	b.Publish(wire.Topic(dev, wire.TopicAck), mustJSON(ack), false)
}

// Command publishes a command to a device (retained like the disable).
func (c *Cloud) Command(dev string, cmd wire.Command, retain bool) {
	c.t.Helper()
	c.Raw(dev, wire.TopicCmd, mustJSON(cmd), retain)
}

// Raw publishes any payload on a device's topic.
func (c *Cloud) Raw(dev, suffix string, payload []byte, retain bool) {
	c.t.Helper()
	c.mu.Lock()
	b := c.b
	c.mu.Unlock()
	if b == nil {
		c.t.Fatal("fakecloud: the broker is stopped")
	}
	c.must(b.Publish(wire.Topic(dev, suffix), payload, retain))
}

// Stored is how many distinct punches the cloud has.
func (c *Cloud) Stored() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.punches)
}

// Received is how many punches arrived, resends included.
func (c *Cloud) Received() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.received
}

// Punch returns a stored punch by ID.
func (c *Cloud) Punch(id string) (wire.Punch, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.punches[id]
	return p, ok
}

// Batches returns the batches received, in order.
func (c *Cloud) Batches() []wire.PunchBatch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wire.PunchBatch(nil), c.batches...)
}

// Result is the latest result of a command.
func (c *Cloud) Result(id string) (wire.CommandResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.results) - 1; i >= 0; i-- {
		if c.results[i].ID == id {
			return c.results[i], true
		}
	}
	return wire.CommandResult{}, false
}

// WaitResult waits for a command's result.
func (c *Cloud) WaitResult(t testing.TB, id string) wire.CommandResult {
	t.Helper()
	return await.Value(t, wait, func() (wire.CommandResult, bool) { return c.Result(id) }, "no result for command %s", id)
}

// ResultCount is how many results a command got.
func (c *Cloud) ResultCount(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.results {
		if r.ID == id {
			n++
		}
	}
	return n
}

// LastStatus is the latest check-in of any device.
func (c *Cloud) LastStatus() (wire.Status, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.statuses) == 0 {
		return wire.Status{}, false
	}
	return c.statuses[len(c.statuses)-1], true
}

// Onboard makes an identity for device dev in the state directory, as
// activation does (the key made in the directory's identity store, the
// certificate signed by this cloud's CA), saves it and returns it.
func (c *Cloud) Onboard(t testing.TB, stateDir, dev string) *identity.Identity {
	t.Helper()
	ids := identity.NewStore(stateDir)
	key, err := ids.Key()
	c.must(err)
	csrPEM, err := identity.NewCSR(key, "SN-"+dev)
	c.must(err)
	blk, _ := pem.Decode(csrPEM)
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	c.must(err)
	certPEM := c.CA.SignCSR(t, csr, dev)
	cert, err := identity.ParseCertificate(certPEM)
	c.must(err)
	id := &identity.Identity{DeviceID: dev, Serial: "SN-" + dev, CompanyID: "123456", CompanyName: "Demo Company",
		CloudURL: "https://127.0.0.1:1", Key: key, Cert: cert, CertPEM: certPEM, CAPEM: c.CA.PEM(), MQTT: c.Endpoints(),
		Nickname: "Front door", Timezone: "UTC", ActivatedAt: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	c.must(ids.Save(id))
	// A clock that onboarded has its state file (opened before onboarding):
	// without one, the clock would take it as lost.
	if _, err := os.Lstat(filepath.Join(stateDir, store.FileName)); errors.Is(err, os.ErrNotExist) {
		st, err := store.Open(stateDir, store.Options{})
		c.must(err)
		c.must(st.Close())
	}
	return id
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
