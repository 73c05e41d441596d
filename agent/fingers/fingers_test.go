package fingers

import (
	"errors"
	"testing"
	"time"

	"timeclock/agent/store"
)

var at = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

func open(t *testing.T, dir string) (*store.Store, *Keeper) {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	k, err := Open(st)
	if err != nil {
		t.Fatal(err)
	}
	return st, k
}

func TestEnrollDeleteReport(t *testing.T) {
	dir := t.TempDir()
	st, k := open(t, dir)
	if err := k.Add(Enrollment{Slot: 0, Employee: "E1", Supervisor: "S1", ConsentAt: at, EnrolledAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := k.Add(Enrollment{Slot: 1, Employee: "E1", Supervisor: "S1", ConsentAt: at, EnrolledAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := k.Add(Enrollment{Slot: 1, Employee: "E2", Supervisor: "S1", ConsentAt: at}); !errors.Is(err, ErrSlotTaken) {
		t.Fatalf("slot taken twice: %v", err)
	}
	if err := k.Add(Enrollment{Slot: 2, Employee: "E2", ConsentAt: at}); err == nil {
		t.Fatal("an enrollment without a supervisor was taken")
	}
	if s, ok := k.FreeSlot(3); !ok || s != 2 {
		t.Fatalf("free slot %d %v", s, ok)
	}
	if _, ok := k.FreeSlot(2); ok {
		t.Fatal("a free slot in a full module")
	}
	if e, ok := k.Employee(1); !ok || e != "E1" {
		t.Fatalf("slot 1: %q %v", e, ok)
	}
	st.Close()

	// Across a restart: the enrollments and reports are in the state file.
	st, k = open(t, dir)
	defer st.Close()
	slots, err := k.MarkDeleting("E1", "deleted by the administrator", "cmd-1")
	if err != nil || len(slots) != 2 {
		t.Fatalf("mark deleting: %v %v", slots, err)
	}
	if _, ok := k.Employee(0); ok {
		t.Fatal("a slot being deleted still matches")
	}
	if last, err := k.Deleted(0, at); err != nil || last {
		t.Fatalf("first of two deleted: last %v %v", last, err)
	}
	if last, err := k.Deleted(1, at.Add(time.Second)); err != nil || !last {
		t.Fatalf("second of two deleted: last %v %v", last, err)
	}
	reps, err := k.Reports(10)
	if err != nil {
		t.Fatal(err)
	}
	want := []Report{
		{Seq: 1, Kind: ReportConsent, Employee: "E1", Supervisor: "S1", At: at},
		{Seq: 2, Kind: ReportConsent, Employee: "E1", Supervisor: "S1", At: at},
		{Seq: 3, Kind: ReportDeleted, Employee: "E1", At: at.Add(time.Second), Reason: "deleted by the administrator", Command: "cmd-1"},
	}
	if len(reps) != len(want) {
		t.Fatalf("reports %+v", reps)
	}
	for i := range want {
		if reps[i] != want[i] {
			t.Errorf("report %d: %+v, want %+v", i, reps[i], want[i])
		}
	}
	if err := k.Acked([]uint64{1, 2}); err != nil {
		t.Fatal(err)
	}
	if reps, _ := k.Reports(10); len(reps) != 1 || reps[0].Seq != 3 {
		t.Errorf("after the ack: %+v", reps)
	}
	if len(k.All()) != 0 {
		t.Errorf("enrollments left: %+v", k.All())
	}
}
