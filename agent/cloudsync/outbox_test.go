package cloudsync

import (
	"reflect"
	"testing"
	"time"

	"timeclock/agent/journal"
	"timeclock/internal/await"
	"timeclock/internal/fakecloud"
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
	seqs, final := o.expired(t0.Add(500 * time.Millisecond))
	if !reflect.DeepEqual(seqs, []uint64{2}) || final || len(o.flights) != 0 {
		t.Errorf("expired %v %v, %d flights left", seqs, final, len(o.flights))
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

// TestResendAfterAckTimeout: punches the cloud has not acknowledged within
// AckTimeout go again, read again from the journal (the outbox keeps only
// their IDs), and a punch acknowledged meanwhile is not among them.
func TestResendAfterAckTimeout(t *testing.T) {
	fc := fakecloud.New(t)
	c := newClock(t, fc, "dev-resend")
	ps := c.punch(2500)
	cfg := testConfig()
	cfg.AckTimeout = 300 * time.Millisecond
	fc.HoldAcks(true)
	c.start(cfg)
	await.True(t, wait, func() bool { return fc.Received() >= cfg.BatchSize }, "the first batch not sent")
	// One punch is acknowledged by the clock's own journal in the meantime
	// (as an ack from an earlier connection would): it must not go again.
	if _, err := c.j.MarkAcked([]journal.ID{ps[0].ID}, time.Now()); err != nil {
		t.Fatal(err)
	}
	await.True(t, wait, func() bool { return countLog(c, "sending them again") > 0 }, "nothing sent again after the ack timeout")
	fc.HoldAcks(false)
	c.waitDrained(fc, 2500)
	sent := map[string]int{}
	for _, b := range fc.Batches() {
		for _, p := range b.Punches {
			sent[p.ID]++
		}
	}
	if got := sent[ps[0].ID.String()]; got != 1 {
		t.Errorf("the punch acknowledged meanwhile was sent %d times, want once", got)
	}
	if got := sent[ps[1].ID.String()]; got < 2 {
		t.Errorf("an unacknowledged punch was sent %d times, want again after the timeout", got)
	}
}
