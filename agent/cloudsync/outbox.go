package cloudsync

import (
	"cmp"
	"slices"
	"time"

	"timeclock/wire"
)

// flight is a batch sent and not yet fully acknowledged by the cloud.
type flight struct {
	batch   uint64
	punches map[string]wire.Punch // by ID: the ones the cloud has not named yet
	sentAt  time.Time
	final   bool
	probe   bool // an empty batch sent for the cloud's time in its ack
}

// outbox tracks the batches of one connection. The journal is the real
// outbox (a punch stays pending there until the cloud's ack names it);
// this is only what was sent on the current connection, so the sync knows
// how far it has read, how many batches are out, and what to send again.
type outbox struct {
	cursor    uint64             // highest sequence number sent on this connection
	flights   map[uint64]*flight // by batch number
	byID      map[string]uint64  // punch ID -> batch number
	nextBatch uint64
}

func newOutbox(firstBatch uint64) *outbox {
	return &outbox{flights: map[uint64]*flight{}, byID: map[string]uint64{}, nextBatch: firstBatch}
}

// add records a batch about to be sent and returns its message.
func (o *outbox) add(ps []wire.Punch, final bool, now time.Time) wire.PunchBatch {
	o.nextBatch++
	f := &flight{batch: o.nextBatch, punches: make(map[string]wire.Punch, len(ps)), sentAt: now, final: final}
	for _, p := range ps {
		f.punches[p.ID] = p
		o.byID[p.ID] = f.batch
		o.cursor = max(o.cursor, p.Seq)
	}
	o.flights[f.batch] = f
	return wire.PunchBatch{Batch: f.batch, Punches: ps, Final: final}
}

// inFlight is how many punches are out and not yet acknowledged.
func (o *outbox) inFlight() int {
	n := 0
	for _, f := range o.flights {
		n += len(f.punches)
	}
	return n
}

// ackResult is what an ack settled.
type ackResult struct {
	finalDone bool // a Final batch is now wholly acknowledged
	freed     int  // flights completed
}

// acked removes the punches an ack names from their flights, whatever
// batch number the ack carries (an ack from an earlier connection still
// settles punches sent again on this one). A flight is done when all its
// punches are named, or, for an empty batch, when its number is echoed.
func (o *outbox) acked(a wire.Ack) ackResult {
	var r ackResult
	touched := map[uint64]bool{}
	for _, id := range a.IDs {
		b, ok := o.byID[id]
		if !ok {
			continue
		}
		delete(o.byID, id)
		delete(o.flights[b].punches, id)
		touched[b] = true
	}
	if f, ok := o.flights[a.Batch]; ok && len(f.punches) == 0 {
		touched[a.Batch] = true
	}
	for b := range touched {
		f := o.flights[b]
		if len(f.punches) > 0 {
			continue
		}
		delete(o.flights, b)
		r.freed++
		r.finalDone = r.finalDone || f.final
	}
	return r
}

// expired takes the flights sent before deadline out of the outbox and
// returns their unacknowledged punches, in sequence order, to send again.
func (o *outbox) expired(deadline time.Time) (ps []wire.Punch, final bool) {
	for b, f := range o.flights {
		if f.sentAt.After(deadline) {
			continue
		}
		for id, p := range f.punches {
			ps = append(ps, p)
			delete(o.byID, id)
		}
		final = final || f.final
		delete(o.flights, b)
	}
	sortBySeq(ps)
	return ps, final
}

// oldest is when the oldest flight was sent (ok false when none is out).
func (o *outbox) oldest() (t time.Time, ok bool) {
	for _, f := range o.flights {
		if !ok || f.sentAt.Before(t) {
			t, ok = f.sentAt, true
		}
	}
	return t, ok
}

// finalOut reports whether a Final batch is in flight.
func (o *outbox) finalOut() bool {
	for _, f := range o.flights {
		if f.final {
			return true
		}
	}
	return false
}

func sortBySeq(ps []wire.Punch) {
	slices.SortFunc(ps, func(a, b wire.Punch) int { return cmp.Compare(a.Seq, b.Seq) })
}
