// Package synctest is a simulated clock, not a fake cloud: the cloud's own
// tests (cloud, cloud/mosquitto, cmd/timeclock-cloud) run the real cloud and
// point these clocks at it. A Device is a paho client with a client
// certificate that speaks the MQTT protocol of docs/protocol.md as a clock
// does (pending punches until acknowledged, batches, resends, check-ins,
// command results); Onboard gets that certificate through the dev cloud's
// onboarding API. It is test support: no product package imports it. The
// other way round, tests of the real clock use internal/fakecloud (a fake
// cloud) or internal/e2e (both real programs).
package synctest

import (
	"cmp"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"timeclock/cloud/bus"
	"timeclock/wire"
)

// Device is a simulated clock.
type Device struct {
	ID string
	// ResendAfter is how long a sent batch waits for its ack before it is
	// sent again (a clock's ack timeout).
	ResendAfter time.Duration
	// BatchSize is the most punches in one batch.
	BatchSize int

	tls   *tls.Config
	nonce string

	mu       sync.Mutex
	client   paho.Client           // guarded by mu
	seq      uint64                // guarded by mu; last punch sequence number
	batch    uint64                // guarded by mu
	pending  map[string]wire.Punch // guarded by mu; until an ack names it
	sentAt   map[string]time.Time  // guarded by mu
	acked    map[string]int        // guarded by mu; acks naming each ID
	acks     []wire.Ack            // guarded by mu
	cmds     []wire.Command        // guarded by mu
	final    bool                  // guarded by mu; batches carry Final
	connects int                   // guarded by mu
	onCmd    func(wire.Command)    // guarded by mu
	acked1   chan struct{}         // guarded by mu; closed and replaced at every ack

	ready     chan struct{} // closed after the first onConnect
	readyOnce sync.Once
	stop      chan struct{}
	wg        sync.WaitGroup
}

// NewDevice makes a clock with its certificate; cfg holds the
// certificate, the roots and the server name.
func NewDevice(id string, cfg *tls.Config) *Device {
	n := make([]byte, 8)
	rand.Read(n)
	return &Device{ID: id, tls: cfg, nonce: hex.EncodeToString(n), ResendAfter: time.Second, BatchSize: 200,
		pending: map[string]wire.Punch{}, sentAt: map[string]time.Time{}, acked: map[string]int{}, stop: make(chan struct{}), ready: make(chan struct{}), acked1: make(chan struct{})}
}

func (d *Device) options(url string, auto bool) *paho.ClientOptions {
	will, _ := json.Marshal(wire.Status{DeviceID: d.ID, Online: false})
	return paho.NewClientOptions().AddBroker(url).SetClientID(d.ID).SetTLSConfig(d.tls).
		SetCleanSession(false).SetResumeSubs(false).SetProtocolVersion(4).
		SetStore(bus.NoStore{}). // the pending map is the outbox; see bus.NoStore
		SetBinaryWill(wire.Topic(d.ID, wire.TopicStatus), will, 1, true).
		SetAutoReconnect(auto).SetConnectRetry(auto).
		SetConnectRetryInterval(100 * time.Millisecond).SetMaxReconnectInterval(500 * time.Millisecond).
		SetConnectTimeout(5 * time.Second).SetKeepAlive(30 * time.Second).
		SetOrderMatters(false).
		SetOnConnectHandler(func(c paho.Client) { d.onConnect(c) })
}

// Connect connects once, without reconnecting, and returns the broker's
// answer: an error when the certificate is refused.
func (d *Device) Connect(url string) error {
	c := paho.NewClient(d.options(url, false))
	d.mu.Lock()
	d.client = c
	d.mu.Unlock()
	tok := c.Connect()
	if !tok.WaitTimeout(15 * time.Second) {
		return errors.New("connect: no answer in 15 s")
	}
	if err := tok.Error(); err != nil {
		return err
	}
	// onConnect subscribes; wait for it through a round trip of our own.
	return d.waitSubscribed()
}

// Run connects and keeps reconnecting until Close. Unacknowledged
// punches are sent again after every connection and every ResendAfter.
func (d *Device) Run(url string) {
	c := paho.NewClient(d.options(url, true))
	d.mu.Lock()
	d.client = c
	d.mu.Unlock()
	c.Connect()
	d.wg.Add(1)
	go d.resender()
}

// Close disconnects (cleanly: no last will) and stops the resender.
func (d *Device) Close() {
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	d.wg.Wait()
	if c := d.cli(); c != nil {
		c.Disconnect(100)
	}
}

func (d *Device) cli() paho.Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.client
}

// Connected reports whether the session is up.
func (d *Device) Connected() bool {
	c := d.cli()
	return c != nil && c.IsConnectionOpen()
}

// Connects counts the connections made.
func (d *Device) Connects() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.connects
}

func (d *Device) onConnect(c paho.Client) {
	d.mu.Lock()
	d.connects++
	d.mu.Unlock()
	// Subscribe on every connection: the broker may have lost the session.
	// A subscription that fails is tried again while the connection lasts.
	for _, s := range []struct {
		topic string
		h     paho.MessageHandler
	}{{wire.Topic(d.ID, wire.TopicAck), d.onAck}, {wire.Topic(d.ID, wire.TopicCmd), d.onCommand}} {
		for {
			tok := c.Subscribe(s.topic, 1, s.h)
			if tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
				break
			}
			if !c.IsConnectionOpen() {
				return // the next connection subscribes
			}
		}
	}
	d.readyOnce.Do(func() { close(d.ready) })
	d.publishStatus(c, true)
	d.sendPending(c, true)
}

// waitSubscribed returns once onConnect has run.
func (d *Device) waitSubscribed() error {
	select {
	case <-d.ready:
		return nil
	case <-time.After(15 * time.Second):
		return errors.New("connect: subscriptions not made in 15 s")
	}
}

func (d *Device) resender() {
	defer d.wg.Done()
	t := time.NewTicker(d.ResendAfter / 2)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			if c := d.cli(); c != nil && c.IsConnectionOpen() {
				d.sendPending(c, false)
			}
		}
	}
}

// Punch makes n pending punches (for employee) and sends them if connected.
func (d *Device) Punch(n int, employee string) []wire.Punch {
	d.mu.Lock()
	out := make([]wire.Punch, n)
	for i := range out {
		d.seq++
		p := wire.Punch{ID: fmt.Sprintf("%s%016x", d.nonce, d.seq), Seq: d.seq, Employee: employee, Kind: wire.KindIn,
			Time: time.Now().UTC().Truncate(time.Millisecond), TZ: "America/Chicago", TZOffset: -6 * 3600, ClockSet: true}
		d.pending[p.ID] = p
		out[i] = p
	}
	c := d.client
	d.mu.Unlock()
	if c != nil && c.IsConnectionOpen() {
		d.sendPending(c, false)
	}
	return out
}

// sendPending publishes pending punches in batches: all of them (after a
// connection), or those not sent within ResendAfter.
func (d *Device) sendPending(c paho.Client, all bool) {
	d.mu.Lock()
	now := time.Now()
	var ps []wire.Punch
	for id, p := range d.pending {
		if all || now.Sub(d.sentAt[id]) >= d.ResendAfter {
			ps = append(ps, p)
			d.sentAt[id] = now
		}
	}
	final := d.final
	d.mu.Unlock()
	slices.SortFunc(ps, func(a, b wire.Punch) int { return cmp.Compare(a.Seq, b.Seq) })
	for len(ps) > 0 {
		n := min(len(ps), d.BatchSize)
		d.mu.Lock()
		d.batch++
		b := wire.PunchBatch{Batch: d.batch, Punches: ps[:n], Final: final}
		d.mu.Unlock()
		payload, _ := json.Marshal(b)
		c.Publish(wire.Topic(d.ID, wire.TopicPunches), 1, false, payload)
		ps = ps[n:]
	}
}

func (d *Device) onAck(_ paho.Client, m paho.Message) {
	a, err := wire.DecodeAck(m.Payload())
	if err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.acks = append(d.acks, a)
	for _, id := range a.IDs {
		delete(d.pending, id)
		delete(d.sentAt, id)
		d.acked[id]++
	}
	close(d.acked1)
	d.acked1 = make(chan struct{})
}

// WaitAcked waits until nothing is pending (a clock waiting for the acks
// of its last transmission) and reports whether that happened in time.
func (d *Device) WaitAcked(timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		d.mu.Lock()
		n, next := len(d.pending), d.acked1
		d.mu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-next:
		case <-deadline.C:
			return false
		}
	}
}

func (d *Device) onCommand(_ paho.Client, m paho.Message) {
	if len(m.Payload()) == 0 {
		return // a retained command cleared
	}
	c, err := wire.DecodeCommand(m.Payload())
	if err != nil && c.ID == "" {
		return
	}
	d.mu.Lock()
	d.cmds = append(d.cmds, c)
	h := d.onCmd
	d.mu.Unlock()
	if h != nil {
		go h(c)
	}
}

// OnCommand sets a function run (in its own goroutine) for every command.
func (d *Device) OnCommand(h func(wire.Command)) {
	d.mu.Lock()
	d.onCmd = h
	d.mu.Unlock()
}

// SetFinal marks the batches sent from now on as the last transmission.
func (d *Device) SetFinal(f bool) {
	d.mu.Lock()
	d.final = f
	d.mu.Unlock()
}

// Pending is how many punches wait for an ack.
func (d *Device) Pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending)
}

// Acked is how many acks named the punch.
func (d *Device) Acked(id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.acked[id]
}

// Acks are the acks received.
func (d *Device) Acks() []wire.Ack {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.acks)
}

// HighSeq is the highest HighSeq an ack reported.
func (d *Device) HighSeq() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	var h uint64
	for _, a := range d.acks {
		h = max(h, a.HighSeq)
	}
	return h
}

// Commands are the commands received, in order.
func (d *Device) Commands() []wire.Command {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.cmds)
}

// Command returns the last command of a type received.
func (d *Device) Command(typ wire.CommandType) (wire.Command, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.cmds) - 1; i >= 0; i-- {
		if d.cmds[i].Type == typ {
			return d.cmds[i], true
		}
	}
	return wire.Command{}, false
}

// Status publishes a check-in (retained).
func (d *Device) Status(s wire.Status) error {
	s.DeviceID = d.ID
	if s.Time.IsZero() {
		s.Time = time.Now().UTC()
	}
	b, _ := json.Marshal(s)
	return d.Publish(wire.Topic(d.ID, wire.TopicStatus), b, true)
}

func (d *Device) publishStatus(c paho.Client, online bool) {
	b, _ := json.Marshal(wire.Status{DeviceID: d.ID, Online: online, Model: "sim", Firmware: "test", NTPSynced: true, Interface: "eth0", Time: time.Now().UTC()})
	c.Publish(wire.Topic(d.ID, wire.TopicStatus), 1, true, b)
}

// Answer publishes a command result.
func (d *Device) Answer(r wire.CommandResult) error {
	b, _ := json.Marshal(r)
	return d.Publish(wire.Topic(d.ID, wire.TopicCmdResult), b, false)
}

// Publish sends raw bytes (QoS 1) and waits for the PUBACK.
func (d *Device) Publish(topic string, payload []byte, retain bool) error {
	c := d.cli()
	if c == nil {
		return errors.New("not connected")
	}
	tok := c.Publish(topic, 1, retain, payload)
	if !tok.WaitTimeout(10 * time.Second) {
		return errors.New("publish: no PUBACK in 10 s")
	}
	return tok.Error()
}

// Send publishes raw bytes (QoS 1) without waiting: for what the broker
// may refuse by closing the connection.
func (d *Device) Send(topic string, payload []byte) {
	if c := d.cli(); c != nil {
		c.Publish(topic, 1, false, payload)
	}
}
