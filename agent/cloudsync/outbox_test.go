package cloudsync

import (
	"reflect"
	"testing"
	"time"

	"timeclock/wire"
)

func TestOutbox(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	p := func(id string, seq uint64) wire.Punch { return wire.Punch{ID: id, Seq: seq} }
	o := newOutbox(100)
	b1 := o.add([]wire.Punch{p("a", 1), p("b", 2)}, false, t0)
	b2 := o.add([]wire.Punch{p("c", 3)}, false, t0.Add(time.Second))
	if b1.Batch != 101 || b2.Batch != 102 || o.cursor != 3 || len(o.flights) != 2 {
		t.Fatalf("batches %d %d cursor %d flights %d", b1.Batch, b2.Batch, o.cursor, len(o.flights))
	}
	// An ack naming part of a batch settles that part only.
	if r := o.acked(wire.Ack{Batch: 101, IDs: []string{"a"}}); r.freed != 0 {
		t.Errorf("partial ack freed %d", r.freed)
	}
	// An ack with a stale batch number still settles the punches it names.
	if r := o.acked(wire.Ack{Batch: 7, IDs: []string{"c", "zz"}}); r.freed != 1 || len(o.flights) != 1 {
		t.Errorf("ack by IDs: freed %d, %d flights left", r.freed, len(o.flights))
	}
	// The rest of batch 101 times out and goes again.
	ps, final := o.expired(t0.Add(500 * time.Millisecond))
	if !reflect.DeepEqual(ps, []wire.Punch{p("b", 2)}) || final || len(o.flights) != 0 {
		t.Errorf("expired %v %v, %d flights left", ps, final, len(o.flights))
	}
	// An empty Final batch is settled by its number.
	fb := o.add(nil, true, t0)
	if !o.finalOut() {
		t.Error("final batch not out")
	}
	if r := o.acked(wire.Ack{Batch: fb.Batch - 1}); r.finalDone {
		t.Error("another batch's ack settled the Final batch")
	}
	if r := o.acked(wire.Ack{Batch: fb.Batch}); !r.finalDone || o.finalOut() {
		t.Errorf("final ack: %+v", r)
	}
	if _, ok := o.oldest(); ok {
		t.Error("flights left")
	}
}
