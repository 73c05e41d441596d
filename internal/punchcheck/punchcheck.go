// Package punchcheck is test support for the crash tests (SIGKILLs of a
// real timeclockd, power cuts of a booted VM): it reads a stopped clock's
// journal and checks that no punch whose accepted screen was seen is lost.
package punchcheck

import (
	"testing"

	"timeclock/agent/journal"
	"timeclock/agent/store"
)

// Read opens a stopped clock's state in dir and returns every punch,
// pending then acked, in sequence order.
func Read(t testing.TB, dir string) []journal.Punch {
	t.Helper()
	st, err := store.Open(dir, store.Options{Rules: journal.Rules()}) // as the clock opens it
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	j, err := journal.Open(st, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ps, err := j.PendingAfter(0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// Accepted checks the journal ps against what the screen said: sequence
// numbers strictly increasing, no punch ID twice, and for each employee at
// least the punches accepted on screen and at most those plus the ones sent
// but not seen accepted (the crash may have come between fsync and screen).
func Accepted(t testing.TB, ps []journal.Punch, employees []string, accepted, unseen map[string]int) {
	t.Helper()
	in := map[string]int{}
	ids := map[string]bool{}
	var last uint64
	for _, p := range ps {
		if p.Seq <= last {
			t.Errorf("sequence %d after %d", p.Seq, last)
		}
		last = p.Seq
		if ids[p.ID.String()] {
			t.Errorf("punch ID %s twice", p.ID)
		}
		ids[p.ID.String()] = true
		in[p.Employee]++
	}
	for _, emp := range employees {
		if got, acc := in[emp], accepted[emp]; got < acc || got > acc+unseen[emp] {
			t.Errorf("%s: %d punches in the journal, %d accepted on screen, %d sent unseen", emp, got, acc, unseen[emp])
		}
	}
}
