package cloudsync

import (
	"time"

	"timeclock/agent/journal"
	"timeclock/clock"
	"timeclock/wire"
)

// This file is the sync's part in keeping time: the cloud's time in its
// acks becomes samples for the clock's TimeKeeper (the batch's send time is
// the round trip's start), empty batches probe for it when the clock's time
// is not known, and corrected punches go to the cloud until its ack says it
// stored the corrected time.

// startTime arms the time probes of a new connection: a few while nothing
// vouches for the clock's time, one per check-in otherwise (the check-in's
// offset stays fresh).
func (s *Syncer) startTime(c *conn, out *outbox) {
	s.probesLeft = 0
	if s.o.Time == nil {
		return
	}
	s.probesLeft = 1
	if !s.o.Time.State().Source.Known() {
		s.probesLeft = timeProbes
	}
	s.probe(c, out)
}

// timeProbes is how many samples a clock whose time is not known asks for
// when it connects: the keeper decides on three.
const timeProbes = 3

// probe sends one empty batch: the cloud acks it with its time. Probes go
// one at a time, so each has its own round trip.
func (s *Syncer) probe(c *conn, out *outbox) {
	if s.probesLeft <= 0 || s.disabling != nil {
		return
	}
	s.probesLeft--
	b := out.add(nil, false, s.clk.Now())
	out.flights[b.Batch].probe = true
	c.Publish(wire.Topic(s.o.Identity.DeviceID, wire.TopicPunches), encodeBatch(b), false)
}

// ackTime takes the cloud's time from an ack of a batch sent on this
// connection, before the ack settles it.
func (s *Syncer) ackTime(c *conn, out *outbox, a wire.Ack, received time.Time) {
	if a.Time.IsZero() {
		return
	}
	s.cloudTimed = true
	f, ok := out.flights[a.Batch]
	if !ok || s.o.Time == nil {
		return
	}
	// A refused sample is logged and counted by the keeper.
	_ = s.o.Time.Add(clock.Sample{Cloud: a.Time, Sent: f.sentAt, Received: received, Origin: "mqtt ack"})
	if f.probe && len(f.punches) == 0 {
		defer s.probe(c, out)
	}
}

// ackCorrections drops the corrections the cloud says it stored.
func (s *Syncer) ackCorrections(a wire.Ack) {
	if len(a.Corrected) == 0 {
		return
	}
	ids := make([]journal.ID, 0, len(a.Corrected))
	for _, x := range a.Corrected {
		delete(s.corrOut, x)
		if id, err := journal.ParseID(x); err == nil {
			ids = append(ids, id)
		}
	}
	if err := s.o.Journal.MarkCorrected(ids); err != nil {
		s.log.Error("storing the cloud's confirmation of corrections failed; they go again", "err", err)
	}
}

// sendCorrections sends corrected punches the cloud has not confirmed
// (acked with their first time, corrected since), one batch at a time,
// to a cloud whose acks carry its time: an older cloud keeps the first copy
// and would never confirm. Pending punches carry their correction anyway.
func (s *Syncer) sendCorrections(c *conn, out *outbox) {
	if !s.cloudTimed || s.disabling != nil {
		return
	}
	now := s.clk.Now()
	for id, at := range s.corrOut {
		if now.Sub(at) < s.cfg.AckTimeout {
			return // a batch is out
		}
		delete(s.corrOut, id) // unconfirmed in time: goes again
	}
	ps, err := s.o.Journal.Corrections(s.cfg.BatchSize)
	if err != nil {
		s.log.Error("reading corrections", "err", err)
		return
	}
	var ws []wire.Punch
	for _, p := range ps {
		if p.State == journal.StateAcked {
			ws = append(ws, wirePunch(p))
		}
	}
	if len(ws) == 0 {
		return
	}
	out.nextBatch++ // not a flight: the punches are acked already
	for _, p := range ws {
		s.corrOut[p.ID] = now
	}
	c.Publish(wire.Topic(s.o.Identity.DeviceID, wire.TopicPunches), encodeBatch(wire.PunchBatch{Batch: out.nextBatch, Punches: ws}), false)
	s.log.Info("corrected punches sent", "punches", len(ws), "batch", out.nextBatch)
}

// timeStatus fills the check-in's clock fields.
func (s *Syncer) timeStatus(st *wire.Status) {
	if s.o.Time == nil {
		return
	}
	ts := s.o.Time.State()
	st.ClockSource, st.TimeRefused = string(ts.Source), ts.Refused
	if ts.OffsetKnown {
		ms := ts.Offset.Milliseconds()
		st.ClockOffsetMS = &ms
	}
}

// sameOffset compares two check-ins' offsets.
func sameOffset(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
