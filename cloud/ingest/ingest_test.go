package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/cloud/bus/bustest"
	"timeclock/cloud/ingest"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/wire"
)

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func setup(t testing.TB) (store.Store, *bustest.Bus, *logBuf) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.Update(context.Background(), func(tx store.Tx) error {
		for _, d := range []store.Device{
			{ID: "d1", CompanyID: "1", Serial: "S1", Status: store.DeviceApproved},
			{ID: "d2", CompanyID: "1", Serial: "S2", Status: store.DeviceDisabling},
			{ID: "d3", CompanyID: "1", Serial: "S3", Status: store.DeviceDisabled},
		} {
			if err := tx.PutDevice(d); err != nil {
				return err
			}
		}
		return nil
	})
	b, lb := &bustest.Bus{}, &logBuf{}
	if _, err := ingest.Start(context.Background(), b, ingest.Deps{Store: st, Clock: clock.NewFake(t0), Log: slog.New(slog.NewTextHandler(lb, nil))}); err != nil {
		t.Fatal(err)
	}
	return st, b, lb
}

func punches(from, n int, emp string) []wire.Punch {
	var ps []wire.Punch
	for i := from; i < from+n; i++ {
		ps = append(ps, wire.Punch{ID: fmt.Sprintf("00aa%012x", i), Seq: uint64(i), Employee: emp, Kind: wire.KindIn,
			Time: t0.Add(time.Duration(i) * time.Minute), TZ: "America/Chicago", TZOffset: -21600, ClockSet: true})
	}
	return ps
}

func send(b *bustest.Bus, dev string, pb wire.PunchBatch) {
	p, _ := json.Marshal(pb)
	b.Deliver(wire.Topic(dev, wire.TopicPunches), p)
}

func acks(t *testing.T, b *bustest.Bus, dev string) []wire.Ack {
	t.Helper()
	var out []wire.Ack
	for _, m := range b.Published(wire.Topic(dev, wire.TopicAck)) {
		a, err := wire.DecodeAck(m.Payload)
		if err != nil {
			t.Fatalf("the clock cannot decode the ack: %v", err)
		}
		out = append(out, a)
	}
	return out
}

func stored(t *testing.T, st store.Store, dev string) []store.Punch {
	t.Helper()
	var ps []store.Punch
	st.View(context.Background(), func(tx store.Tx) (err error) { ps, err = tx.Punches(dev, "", 100000); return err })
	return ps
}

func TestStoredOnceAndAcked(t *testing.T) {
	st, b, lb := setup(t)
	send(b, "d1", wire.PunchBatch{Batch: 1, Punches: punches(1, 3, "E100")})
	a := acks(t, b, "d1")
	if len(a) != 1 || a[0].Batch != 1 || len(a[0].IDs) != 3 || a[0].HighSeq != 3 {
		t.Fatalf("ack %+v", a)
	}
	// The same batch again (the ack was lost), and an overlapping one.
	send(b, "d1", wire.PunchBatch{Batch: 2, Punches: punches(1, 3, "E100")})
	send(b, "d1", wire.PunchBatch{Batch: 3, Punches: punches(2, 4, "E101")})
	a = acks(t, b, "d1")
	if len(a) != 3 || len(a[1].IDs) != 3 || len(a[2].IDs) != 4 || a[2].HighSeq != 5 {
		t.Fatalf("acks %+v", a)
	}
	ps := stored(t, st, "d1")
	if len(ps) != 5 {
		t.Fatalf("stored %d punches, want 5", len(ps))
	}
	if ps[1].Employee != "E100" || ps[4].Employee != "E101" || ps[0].CompanyID != "1" || !ps[0].ReceivedAt.Equal(t0) {
		t.Fatalf("stored %+v", ps)
	}
	var d store.Device
	st.View(context.Background(), func(tx store.Tx) (err error) { d, err = tx.Device("d1"); return err })
	if d.Punches != 5 || d.HighSeq != 5 || d.LastUsedBy != "E101" || !d.LastCheckedIn.Equal(t0) {
		t.Fatalf("device after ingest %+v", d)
	}
	if !strings.Contains(lb.String(), "new=2 resent=2") {
		t.Errorf("log does not count resends:\n%s", lb)
	}
}

func TestLastTransmissionAndRefusals(t *testing.T) {
	st, b, lb := setup(t)
	send(b, "d2", wire.PunchBatch{Batch: 1, Punches: punches(1, 2, "E1"), Final: true})
	if a := acks(t, b, "d2"); len(a) != 1 || len(a[0].IDs) != 2 {
		t.Fatalf("a disabling clock's last transmission was not acked: %+v", a)
	}
	if ps := stored(t, st, "d2"); len(ps) != 2 || !ps[0].Final {
		t.Fatalf("final punches %+v", ps)
	}
	send(b, "d3", wire.PunchBatch{Batch: 1, Punches: punches(1, 1, "E1")})
	send(b, "nobody", wire.PunchBatch{Batch: 1, Punches: punches(1, 1, "E1")})
	if len(acks(t, b, "d3"))+len(acks(t, b, "nobody")) != 0 || len(stored(t, st, "d3"))+len(stored(t, st, "nobody")) != 0 {
		t.Fatal("punches of a disabled or unknown device were stored or acked")
	}
	for _, w := range []string{"device=d3 punches=1 reason=\"punches refused: device is disabled\"", "device=nobody punches=1 reason=\"punches refused: unknown device\""} {
		if !strings.Contains(lb.String(), w) {
			t.Errorf("log lacks %q:\n%s", w, lb)
		}
	}
}

func TestMalformedIsDroppedNotFatal(t *testing.T) {
	st, b, lb := setup(t)
	for _, p := range [][]byte{nil, []byte(`{`), []byte(`[]`), []byte(`{"punches":[{"id":"x"}]}`), make([]byte, wire.MaxPayload+1)} {
		b.Deliver(wire.Topic("d1", wire.TopicPunches), p)
	}
	if len(acks(t, b, "d1")) != 0 {
		t.Fatal("a malformed batch was acked")
	}
	// One bad punch among good ones: the good ones are stored and acked.
	ps := punches(1, 3, "E1")
	ps[1].Kind = "NAP"
	send(b, "d1", wire.PunchBatch{Batch: 9, Punches: ps})
	a := acks(t, b, "d1")
	if len(a) != 1 || len(a[0].IDs) != 2 || a[0].IDs[0] != ps[0].ID || a[0].IDs[1] != ps[2].ID {
		t.Fatalf("acks %+v", a)
	}
	if n := len(stored(t, st, "d1")); n != 2 {
		t.Fatalf("stored %d", n)
	}
	if !strings.Contains(lb.String(), "punch batch dropped") || !strings.Contains(lb.String(), "punch refused: not acknowledged") {
		t.Errorf("log:\n%s", lb)
	}
}

func FuzzIngest(f *testing.F) {
	good, _ := json.Marshal(wire.PunchBatch{Batch: 1, Punches: punches(1, 2, "E1")})
	f.Add(good)
	f.Add([]byte(`{"batch":1,"punches":[{"id":"a","seq":1,"kind":"IN","employee":"E","time":"2026-01-01T00:00:00Z"},{"id":""}]}`))
	f.Add([]byte(`{"punches":null}`))
	st, b, _ := setup(f)
	f.Fuzz(func(t *testing.T, p []byte) {
		b.Reset()
		b.Deliver(wire.Topic("d1", wire.TopicPunches), p) // must not panic
		for _, m := range b.Published(wire.Topic("d1", wire.TopicAck)) {
			a, err := wire.DecodeAck(m.Payload)
			if err != nil {
				t.Fatalf("the ingest sent an ack the clock cannot read: %v", err)
			}
			if len(a.IDs) == 0 {
				continue
			}
			// One read of what is stored (the store grows over a fuzzing
			// run: a scan per acked ID made it quadratic and stalled it).
			have := map[string]bool{}
			st.View(context.Background(), func(tx store.Tx) error {
				ps, _ := tx.Punches("d1", "", 1<<30)
				for _, p := range ps {
					have[p.ID] = true
				}
				return nil
			})
			for _, id := range a.IDs {
				if !have[id] {
					t.Fatalf("acked %q without storing it", id)
				}
			}
		}
	})
}

// Last Used By names the employee, as the clock's check-in does, so a
// clock disabled before its next check-in does not show an employee ID
// on the Mobile Devices page.
func TestLastUsedByIsTheEmployeesName(t *testing.T) {
	st, b, _ := setup(t)
	if err := st.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutRosterEmployee(store.RosterEmployee{CompanyID: "1", ID: "E101", Name: "Grace Hopper", Active: true, Version: 1})
	}); err != nil {
		t.Fatal(err)
	}
	send(b, "d1", wire.PunchBatch{Batch: 1, Punches: punches(1, 1, "E101")})
	acks(t, b, "d1")
	var d store.Device
	st.View(context.Background(), func(tx store.Tx) (err error) { d, err = tx.Device("d1"); return err })
	if d.LastUsedBy != "Grace Hopper" {
		t.Fatalf("Last Used By %q, want the employee's name", d.LastUsedBy)
	}
	// An employee the roster does not know is shown by ID.
	send(b, "d1", wire.PunchBatch{Batch: 2, Punches: punches(2, 2, "E999")})
	acks(t, b, "d1")
	st.View(context.Background(), func(tx store.Tx) (err error) { d, err = tx.Device("d1"); return err })
	if d.LastUsedBy != "E999" {
		t.Fatalf("Last Used By %q, want the unknown ID", d.LastUsedBy)
	}
}

// Acks carry the cloud's time; a correction of a punch stored with its
// first time is stored beside it, named in the ack's corrected list, and a
// resent correction changes nothing.
func TestAckTimeAndCorrections(t *testing.T) {
	st, b, _ := setup(t)
	p := punches(1, 1, "E100")[0]
	first := time.Unix(300, 0).UTC()
	p.Time, p.ClockSet, p.TimeSource, p.BootID, p.MonoNS = first, false, "unset", "boot", 300e9
	send(b, "d1", wire.PunchBatch{Batch: 1, Punches: []wire.Punch{p}})
	fixed := p
	fixed.Time, fixed.Corrected, fixed.OriginalTime, fixed.BootID, fixed.MonoNS = t0, true, first, "", 0
	send(b, "d1", wire.PunchBatch{Batch: 2, Punches: []wire.Punch{fixed}})
	send(b, "d1", wire.PunchBatch{Batch: 3, Punches: []wire.Punch{fixed}})
	a := acks(t, b, "d1")
	if len(a) != 3 || !a[0].Time.Equal(t0) || len(a[0].Corrected) != 0 {
		t.Fatalf("acks %+v", a)
	}
	for _, x := range a[1:] {
		if len(x.Corrected) != 1 || x.Corrected[0] != p.ID || len(x.IDs) != 1 {
			t.Errorf("ack of a correction %+v", x)
		}
	}
	ps := stored(t, st, "d1")
	if len(ps) != 1 || !ps[0].Corrected || !ps[0].Time.Equal(t0) || !ps[0].OriginalTime.Equal(first) || ps[0].TimeSource != "unset" {
		t.Fatalf("stored %+v", ps)
	}
}

// An empty batch (a time probe) is acked with the cloud's time and the
// device's high sequence number, and changes nothing stored.
func TestEmptyBatchIsAReadOnlyTimeProbe(t *testing.T) {
	st, b, _ := setup(t)
	send(b, "d1", wire.PunchBatch{Batch: 1, Punches: punches(1, 2, "E100")})
	var before store.Device
	st.View(context.Background(), func(tx store.Tx) (err error) { before, err = tx.Device("d1"); return err })
	send(b, "d1", wire.PunchBatch{Batch: 2, Punches: []wire.Punch{}})
	send(b, "d3", wire.PunchBatch{Batch: 3, Punches: []wire.Punch{}}) // disabled: refused
	a := acks(t, b, "d1")
	if len(a) != 2 || a[1].Batch != 2 || len(a[1].IDs) != 0 || a[1].HighSeq != 2 || !a[1].Time.Equal(t0) {
		t.Fatalf("acks %+v", a)
	}
	if len(acks(t, b, "d3")) != 0 {
		t.Error("a disabled device's probe was answered")
	}
	var after store.Device
	st.View(context.Background(), func(tx store.Tx) (err error) { after, err = tx.Device("d1"); return err })
	if !reflect.DeepEqual(before, after) {
		t.Errorf("the probe changed the device:\n%+v\n%+v", before, after)
	}
}

// TestSeqBeyondWhatTheClockCanHaveMade: a punch whose seq is beyond the
// stored high sequence by more than a clock can hold pending is stored and
// acknowledged (it is a person's time; left pending it would be sent for
// ever) but does not move the device's high_seq, and is logged; a seq past
// 64 bits costs only its own punch; the punches beside them and after them
// are stored.
func TestSeqBeyondWhatTheClockCanHaveMade(t *testing.T) {
	st, b, lb := setup(t)
	ps := punches(1, 3, "E1")
	ps[1].Seq = math.MaxUint64
	send(b, "d1", wire.PunchBatch{Batch: 1, Punches: ps})
	a := acks(t, b, "d1")
	if len(a) != 1 || len(a[0].IDs) != 3 || a[0].IDs[1] != ps[1].ID || a[0].HighSeq != 3 {
		t.Fatalf("acks %+v", a)
	}
	if !strings.Contains(lb.String(), "seq 18446744073709551615: beyond what the clock can have made") {
		t.Errorf("log:\n%s", lb)
	}
	// At the bound moves high_seq; one past it is stored without moving it.
	next := punches(4, 2, "E1")
	next[0].Seq, next[1].Seq = 3+wire.MaxPending, 3+wire.MaxPending+1
	send(b, "d1", wire.PunchBatch{Batch: 2, Punches: next})
	a = acks(t, b, "d1")
	if len(a) != 2 || len(a[1].IDs) != 2 || a[1].HighSeq != 3+wire.MaxPending {
		t.Fatalf("acks %+v", a)
	}
	// A seq that does not fit 64 bits, between two good punches: it cannot
	// be read, so it is the only one left out.
	raw := fmt.Sprintf(`{"batch":3,"punches":[%s,{"id":"00bb01","seq":18446744073709551616,"kind":"IN","employee":"E1","time":"2026-01-01T00:00:00Z"},%s]}`,
		mustJSON(punches(10, 1, "E1")[0]), mustJSON(punches(11, 1, "E1")[0]))
	b.Deliver(wire.Topic("d1", wire.TopicPunches), []byte(raw))
	a = acks(t, b, "d1")
	if len(a) != 3 || len(a[2].IDs) != 2 {
		t.Fatalf("acks %+v", a)
	}
	var d store.Device
	st.View(context.Background(), func(tx store.Tx) (err error) { d, err = tx.Device("d1"); return err })
	if d.HighSeq != 3+wire.MaxPending || d.Punches != 7 {
		t.Errorf("device %+v", d)
	}
	var stored []store.Punch
	st.View(context.Background(), func(tx store.Tx) (err error) { stored, err = tx.Punches("d1", "", 100); return err })
	found := false
	for _, p := range stored {
		found = found || (p.ID == ps[1].ID && p.Seq == math.MaxUint64)
	}
	if !found {
		t.Errorf("the punch with seq 2^64-1 was not stored: %+v", stored)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
