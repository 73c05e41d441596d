package cloudsync

import (
	"sort"
	"time"

	"timeclock/wire"
)

// flight is a batch sent and not yet fully acknowledged by the cloud. It
// keeps only the punches' IDs and sequence numbers, not the punches: the
// journal has them (a resend reads them again), and a drain keeps
// InFlight x BatchSize punches out, which the clock's memory budget would
// otherwise carry twice.
type flight struct {
	batch   uint64
	punches map[string]uint64 // ID -> Seq: the ones the cloud has not named yet
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
	flights   map[uint64]*flight // by batch number (at most InFlight)
	nextBatch uint64
}

func newOutbox(firstBatch uint64) *outbox {
	return &outbox{flights: map[uint64]*flight{}, nextBatch: firstBatch}
}

// add records a batch about to be sent and returns its message.
func (o *outbox) add(ps []wire.Punch, final bool, now time.Time) wire.PunchBatch {
	o.nextBatch++
	f := &flight{batch: o.nextBatch, punches: make(map[string]uint64, len(ps)), sentAt: now, final: final}
	for _, p := range ps {
		f.punches[p.ID] = p.Seq
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
	named := o.flights[a.Batch] // the ack's own batch names most of its IDs
	for _, id := range a.IDs {
		f := named
		if f == nil || !has(f, id) {
			if f = o.find(id); f == nil {
				continue
			}
		}
		delete(f.punches, id)
		touched[f.batch] = true
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

func has(f *flight, id string) bool { _, ok := f.punches[id]; return ok }

// find is the flight a punch ID is out in (nil: none).
func (o *outbox) find(id string) *flight {
	for _, f := range o.flights {
		if has(f, id) {
			return f
		}
	}
	return nil
}

// expired takes the flights sent before deadline out of the outbox and
// returns the sequence numbers of their unacknowledged punches, in order,
// to read again from the journal and send again.
func (o *outbox) expired(deadline time.Time) (seqs []uint64, final bool) {
	for b, f := range o.flights {
		if f.sentAt.After(deadline) {
			continue
		}
		for _, seq := range f.punches {
			seqs = append(seqs, seq)
		}
		final = final || f.final
		delete(o.flights, b)
	}
	// sort.Slice: slices.Sort would compile its own copy of the sort for
	// uint64 (~8 KiB of the ARM binary); sort.Slice's is linked anyway.
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, final
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
