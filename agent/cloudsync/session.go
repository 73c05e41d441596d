package cloudsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"timeclock/agent/journal"
	"timeclock/clock"
	"timeclock/wire"
)

// errSwitch ends a WebSocket session when the TLS port answers again.
var errSwitch = errors.New("the TLS port answers again")

// session runs one connection: it sends the pending punches, takes acks
// and commands, checks in, and returns when the connection ends.
func (s *Syncer) session(ctx context.Context, c *conn) error {
	id := s.o.Identity.DeviceID
	if err := c.Subscribe(ctx, wire.Topic(id, wire.TopicAck), wire.Topic(id, wire.TopicCmd)); err != nil {
		return err
	}
	s.setOnline(c)
	s.bo.reset()
	out := newOutbox(s.batchBase)
	defer func() { s.batchBase = out.nextBatch }()

	checkin := s.clk.NewTimer(s.cfg.CheckinEvery)
	defer checkin.Stop()
	statusDue := stoppedTimer(s.clk)
	defer statusDue.Stop()
	ackDue := stoppedTimer(s.clk)
	defer ackDue.Stop()
	// Over the WebSocket fallback, the TLS port is probed now and then.
	var retryT clock.Timer
	var retry <-chan time.Time
	if c.Via() != viaTLS {
		retryT = s.clk.NewTimer(s.cfg.RetryPreferred)
		defer retryT.Stop()
		retry = retryT.C()
	}
	probed := make(chan error, 1)
	var probes sync.WaitGroup
	defer probes.Wait()
	pctx, cancel := context.WithCancel(ctx)
	defer cancel() // runs before probes.Wait

	s.publishStatus(c, true)
	s.startTime(c, out)
	s.fill(c, out)
	var bioReady <-chan struct{}
	if s.o.Biometrics != nil {
		bioReady = s.o.Biometrics.Ready()
		s.sendBiometrics(ctx, c)
	}
	for {
		if err := s.settle(ctx, c, out, statusDue, ackDue); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			s.goodbye(c)
			return ctx.Err()
		case <-c.Lost():
			return fmt.Errorf("%w: %v", errLost, c.LostErr())
		case <-c.Ready():
			for _, m := range c.Take() {
				if err := s.inbound(ctx, c, out, m); err != nil {
					return err
				}
			}
		case <-s.o.Punched:
			s.fill(c, out)
		case <-bioReady:
			s.sendBiometrics(ctx, c)
		case w := <-s.nowReq:
			s.waiters = append(s.waiters, w)
			s.fill(c, out)
		case <-checkin.C():
			s.publishStatus(c, true)
			if s.o.Time != nil {
				s.probesLeft = 1 // the check-in's offset stays fresh
				s.probe(c, out)
			}
			checkin.Reset(s.cfg.CheckinEvery)
		case <-statusDue.C():
			s.publishStatus(c, false)
		case <-ackDue.C():
			// Acks overdue: a broker may take a refused clock's session
			// and drop all it sends (Mosquitto's WebSocket listener).
			if s.disabling == nil && s.askStanding(ctx) {
				s.goodbye(c)
				return s.disabledByCloud()
			}
			s.resend(c, out)
		case <-retry:
			retry = nil
			probes.Add(1)
			go func() {
				defer probes.Done()
				probed <- s.probeTLS(pctx)
			}()
		case err := <-probed:
			if err == nil {
				s.log.Info("the MQTT TLS port answers again; moving back from the WebSocket")
				s.goodbye(c)
				s.via = viaTLS
				return errSwitch
			}
			s.log.Debug("the MQTT TLS port still does not answer", "err", err)
			retryT.Reset(s.cfg.RetryPreferred)
			retry = retryT.C()
		}
	}
}

// sendBiometrics publishes the consent and deletion records the cloud has
// not acknowledged (the oldest wire.MaxBiometricReports); the cloud's ack
// (Ack.Biometrics) drops them, and the rest follow. Records not
// acknowledged go again on the next connection and whenever a new one is
// recorded: the cloud stores each once.
func (s *Syncer) sendBiometrics(ctx context.Context, c *conn) {
	reps, err := s.o.Biometrics.Reports(wire.MaxBiometricReports)
	if err != nil {
		s.log.Error("biometric records unreadable", "err", err)
		return
	}
	if len(reps) == 0 {
		return
	}
	msg := wire.BiometricReports{Reports: make([]wire.BiometricReport, len(reps))}
	for i, r := range reps {
		msg.Reports[i] = wire.BiometricReport{Seq: r.Seq, Kind: r.Kind, Employee: r.Employee, Supervisor: r.Supervisor,
			At: r.At, Reason: r.Reason, Command: r.Command}
	}
	if err := s.publishWait(ctx, c, wire.Topic(s.o.Identity.DeviceID, wire.TopicBiometrics), msg, false); err != nil {
		s.log.Warn("biometric records not delivered; sending them again later", "records", len(reps), "err", err)
		return
	}
	s.log.Info("biometric records sent", "records", len(reps))
}

// ackBiometrics drops the records the cloud stored, then sends the next
// ones, if any.
func (s *Syncer) ackBiometrics(seqs []uint64) {
	if s.o.Biometrics == nil {
		return
	}
	if err := s.o.Biometrics.Acked(seqs); err != nil {
		s.log.Error("biometric records acknowledged but not dropped; they go again", "err", err)
		return
	}
	s.log.Info("biometric records acknowledged by the cloud", "records", len(seqs))
	if reps, err := s.o.Biometrics.Reports(1); err == nil && len(reps) > 0 {
		s.o.Biometrics.Poke()
	}
}

func stoppedTimer(clk clock.Clock) clock.Timer {
	t := clk.NewTimer(time.Hour)
	t.Stop()
	return t
}

// settle runs after every event: it finishes a disable whose last
// transmission is acknowledged, answers SyncNow once nothing is pending,
// publishes a changed status (at most every StatusGap) and arms the ack
// timer for the oldest batch out.
func (s *Syncer) settle(ctx context.Context, c *conn, out *outbox, statusDue, ackDue clock.Timer) error {
	idle := len(out.flights) == 0 && s.o.Journal.Pending() == 0
	if s.disabling != nil && s.finalAcked && idle {
		return s.completeDisable(ctx, c)
	}
	if idle {
		s.reply(nil)
	}
	now := s.clk.Now()
	if st := s.status(true); !sameStatus(st, s.lastStatus) {
		if wait := s.lastPubAt.Add(s.cfg.StatusGap).Sub(now); wait > 0 {
			statusDue.Reset(wait)
		} else {
			s.publishStatus(c, false)
		}
	}
	if t, ok := out.oldest(); ok {
		ackDue.Reset(max(t.Add(s.cfg.AckTimeout).Sub(now), 0))
	} else {
		ackDue.Stop()
	}
	return nil
}

// fill sends batches of pending punches past the cursor while fewer than
// InFlight batches are out. While the clock is being disabled every batch
// is the last transmission (marked Final); when everything was out already
// an empty Final batch says the transmission is complete.
func (s *Syncer) fill(c *conn, out *outbox) {
	for len(out.flights) < s.cfg.InFlight {
		ps, err := s.o.Journal.PendingAfter(out.cursor, s.cfg.BatchSize)
		if err != nil {
			s.log.Error("reading pending punches", "err", err)
			return
		}
		final := s.disabling != nil
		if len(ps) == 0 {
			if final && !s.finalAcked && !out.finalOut() {
				s.send(c, out, nil, true)
			}
			s.sendCorrections(c, out)
			return
		}
		s.send(c, out, batchPunches(ps), final)
	}
}

// send publishes one batch; the cloud's ack, not the broker's PUBACK,
// settles it.
func (s *Syncer) send(c *conn, out *outbox, ps []wire.Punch, final bool) {
	b := out.add(ps, final, s.clk.Now())
	c.Publish(wire.Topic(s.o.Identity.DeviceID, wire.TopicPunches), encodeBatch(b), false)
	s.sent.Add(int64(len(ps)))
	switch {
	case final && len(ps) == 0:
		// Everything pending is out already (in ordinary batches, or
		// this transmission's earlier ones): this empty batch closes it.
		s.log.Info("last transmission: nothing more to send; the punches already out close it once acknowledged",
			"already_out", out.inFlight(), "batch", b.Batch)
	case final:
		s.log.Info("last transmission sent", "punches", len(ps), "batch", b.Batch)
	}
}

// resend sends again what the cloud has not acknowledged in AckTimeout,
// read again from the journal (a punch acknowledged meanwhile, or no longer
// pending, is not sent).
func (s *Syncer) resend(c *conn, out *outbox) {
	seqs, final := out.expired(s.clk.Now().Add(-s.cfg.AckTimeout))
	if len(seqs) == 0 && !final {
		return
	}
	ps, err := s.pendingSeqs(seqs)
	if err != nil {
		// They stay pending in the journal; the next connection sends them.
		s.log.Error("reading punches to send again", "err", err)
		return
	}
	final = final || s.disabling != nil
	s.log.Warn("the cloud did not acknowledge punches in time; sending them again", "punches", len(ps), "after", s.cfg.AckTimeout.String())
	for len(ps) > s.cfg.BatchSize {
		s.send(c, out, ps[:s.cfg.BatchSize], false)
		ps = ps[s.cfg.BatchSize:]
	}
	s.send(c, out, ps, final)
}

// pendingSeqs reads the punches with these sequence numbers (sorted) that
// are still pending, in order, walking the journal in runs of BatchSize.
func (s *Syncer) pendingSeqs(seqs []uint64) ([]wire.Punch, error) {
	var out []wire.Punch
	for i := 0; i < len(seqs); {
		ps, err := s.o.Journal.PendingAfter(max(seqs[i], 1)-1, s.cfg.BatchSize)
		if err != nil {
			return nil, err
		}
		if len(ps) == 0 {
			break
		}
		for _, p := range ps {
			for i < len(seqs) && seqs[i] < p.Seq {
				i++ // acknowledged meanwhile: no longer pending
			}
			if i == len(seqs) {
				break
			}
			if seqs[i] == p.Seq {
				out = append(out, wirePunch(p))
				i++
			}
		}
		if i < len(seqs) && seqs[i] <= ps[len(ps)-1].Seq {
			i++ // cannot happen (the run covered it); never loop on it
		}
	}
	return out, nil
}

// inbound handles one message from the broker.
func (s *Syncer) inbound(ctx context.Context, c *conn, out *outbox, m message) error {
	_, suffix, ok := wire.SplitTopic(m.Topic)
	switch {
	case ok && suffix == wire.TopicAck:
		s.onAck(c, out, m.Payload)
		return nil
	case ok && suffix == wire.TopicCmd && len(m.Payload) == 0:
		return nil // the cloud cleared the retained command
	case ok && suffix == wire.TopicCmd:
		return s.onCommand(ctx, c, out, m.Payload)
	}
	s.log.Warn("message on an unexpected topic ignored", "topic", m.Topic, "bytes", len(m.Payload))
	return nil
}

// onAck moves the punches an ack names to acked. Only then do they leave
// the outbox; an ack that cannot be stored leaves them to be sent again.
func (s *Syncer) onAck(c *conn, out *outbox, payload []byte) {
	received := s.clk.Now()
	a, err := wire.DecodeAck(payload)
	if err != nil {
		s.log.Warn("ack rejected", "err", err)
		return
	}
	if len(a.Biometrics) > 0 {
		s.ackBiometrics(a.Biometrics)
		if a.Batch == 0 && len(a.IDs) == 0 {
			return // only that: no punches, no time
		}
	}
	ids := make([]journal.ID, 0, len(a.IDs))
	for _, x := range a.IDs {
		id, err := journal.ParseID(x)
		if err != nil {
			s.log.Warn("ack names a punch ID that is not the clock's", "id", x)
			continue
		}
		ids = append(ids, id)
	}
	n, err := s.o.Journal.MarkAcked(ids, s.clk.Now())
	if err != nil {
		s.log.Error("storing the cloud's ack failed; the punches stay pending and go again", "err", err)
		return
	}
	s.acked.Add(int64(n))
	s.releaseMapped(n)
	s.ackTime(c, out, a, received)
	s.ackCorrections(a)
	if s.disabling != nil {
		s.finalCarried += n
	}
	r := out.acked(a)
	if r.finalDone && !s.finalAcked {
		s.finalAcked = true
		s.log.Info("the cloud acknowledged the last transmission", "batch", a.Batch, "punches", s.finalCarried)
	}
	if n > 0 {
		s.o.Device.Changed()
	}
	s.fill(c, out)
}

// releaseEvery is how many acknowledged punches a drain reads and moves
// between two releases of the state file's mapped pages (under 1 MiB of them).
const releaseEvery = 4000

// releaseMapped keeps a long drain's resident memory flat: every
// releaseEvery punches acknowledged, and when the backlog is empty, the
// state file's pages the drain read leave the process's resident set
// (store.ReleaseMapped; they stay in the page cache).
func (s *Syncer) releaseMapped(acked int) {
	s.unreleased += acked
	if s.unreleased == 0 || (s.unreleased < releaseEvery && s.o.Journal.Pending() > 0) {
		return
	}
	s.unreleased = 0
	if err := s.o.Store.ReleaseMapped(); err != nil {
		s.log.Warn("releasing the state file's mapped pages", "err", err)
	}
}

// publishWait publishes at QoS 1 and waits for the broker's PUBACK (at most
// the connect timeout).
func (s *Syncer) publishWait(ctx context.Context, c *conn, topic string, v any, retain bool) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	return c.Wait(ctx, c.Publish(topic, mustJSON(v), retain))
}

// goodbye marks the clock offline (retained) before a clean disconnect,
// which sends no will.
func (s *Syncer) goodbye(c *conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st := s.status(false)
	if err := c.Wait(ctx, c.Publish(wire.Topic(s.o.Identity.DeviceID, wire.TopicStatus), mustJSON(st), true)); err != nil {
		s.log.Debug("offline status not delivered", "err", err)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("cloudsync: encoding %T: %v", v, err)) // our own wire types always encode
	}
	return b
}
