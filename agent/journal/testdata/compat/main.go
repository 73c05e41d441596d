// Command compat writes and reads a clock's state file through the journal
// as one version of the code sees it, for TestStateCompatibility
// (agent/journal/compat_test.go). The test builds this same source twice:
// in this tree (HEAD) and in the release floor's tree (the commit named in
// release/compat-baseline), so it must use only API that both have: the
// journal's and the store's Open, Append, AppendBatch, MarkAcked,
// CorrectClock, Recent and the store's Notice and Damaged. When the
// baseline moves, it may use what the new baseline has.
//
//	compat write DIR   open (or create) DIR's state and add the set of punches
//	compat read DIR    open DIR's state as the clock does and print it as JSON
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/clock"
)

// state is what read prints.
type state struct {
	// Notice is the store's damage notice ("" when the file was sound);
	// Aside the files set aside as damaged.
	Notice  string              `json:"notice"`
	Aside   []store.DamagedFile `json:"aside"`
	Pending int                 `json:"pending"`
	Punches []journal.Punch     `json:"punches"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: compat write|read DIR")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "write":
		err = write(os.Args[2])
	case "read":
		err = read(os.Args[2])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compat:", err)
		os.Exit(1)
	}
}

// start is the fake clock's time: every run writes the same punches.
var start = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func open(dir string, now time.Time) (*store.Store, *journal.Journal, error) {
	st, err := store.Open(dir, store.Options{Clock: clock.NewFake(now), Rules: journal.Rules()})
	if err != nil {
		return nil, nil, err
	}
	j, err := journal.Open(st, journal.Options{})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, j, nil
}

// write adds every kind of record the journal writes: employee punches
// (badge or PIN: the same record) of each kind and time source, an unknown
// badge's, fingerprint punches with a score, punches with and without a
// boot ID, punches whose time is then corrected (with the original time),
// and some of all of these acked.
func write(dir string) error {
	st, j, err := open(dir, start)
	if err != nil {
		return err
	}
	defer st.Close()
	defer j.Close()
	const boot = "0b6e4a7c-8d2f-4e7a-9c1b-2f3d4e5f6a7b"
	at := func(m int) time.Time { return start.Add(time.Duration(m) * time.Minute) }
	ny := func(p journal.Punch) journal.Punch {
		p.TZ, p.TZOffset = "America/New_York", -5*3600
		return p
	}
	ps := []journal.Punch{
		ny(journal.Punch{Employee: "E101", Name: "Ada Lovelace", Kind: journal.KindIn, Department: "Assembly", Time: at(1), Source: clock.SourceNTP, ClockSet: true}),
		ny(journal.Punch{Employee: "E102", Name: "Grace Hopper", Kind: journal.KindOut, Time: at(2), Source: clock.SourceCloud, ClockSet: true}),
		ny(journal.Punch{Employee: "E103", Name: "Alan Turing", Kind: journal.KindBreak, Department: "Shipping", Time: at(3), Source: clock.SourceRTC, ClockSet: true, BootID: boot, SinceBoot: 3 * time.Minute}),
		ny(journal.Punch{Employee: "E104", Name: "Hedy Lamarr", Kind: journal.KindLunch, Time: at(4), Source: clock.SourceNTP, ClockSet: true, BootID: boot, SinceBoot: 4 * time.Minute}),
		{Badge: "99999", Kind: journal.KindIn, Time: at(5), TZ: "UTC", Source: clock.SourceNTP, ClockSet: true},
		ny(journal.Punch{Employee: "E105", Name: "Zoë Ñúñez", Kind: journal.KindIn, Time: at(6), Source: clock.SourceNTP, ClockSet: true, Finger: true, MatchScore: 150}),
		ny(journal.Punch{Employee: "E106", Name: strings.Repeat("n", 256), Kind: journal.KindOut, Department: strings.Repeat("d", 256), Time: at(7), Source: clock.SourceCloud, ClockSet: true, Finger: true, MatchScore: 0xFFFF}),
		ny(journal.Punch{Employee: "E107", Name: "Katherine Johnson", Kind: journal.KindIn, Time: at(8), Source: clock.SourceRTC, ClockSet: true, Finger: true, MatchScore: 0}),
		// Unset clock, no boot ID (nothing can correct it).
		{Employee: "E108", Name: "Mary Jackson", Kind: journal.KindIn, Time: time.UnixMilli(5000).UTC(), Source: clock.SourceUnset},
		// Unset clock in this boot: corrected below, with the original time.
		{Employee: "E109", Name: "Dorothy Vaughan", Kind: journal.KindIn, Time: time.UnixMilli(60_000).UTC(), Source: clock.SourceUnset, BootID: boot, SinceBoot: time.Minute},
		{Badge: "77", Kind: journal.KindOut, Time: time.UnixMilli(120_000).UTC(), Source: clock.SourceUnset, BootID: boot, SinceBoot: 2 * time.Minute},
		ny(journal.Punch{Employee: "E110", Name: "Radia Perlman", Kind: journal.KindBreak, Time: at(9), Source: clock.SourceRTC, ClockSet: true, BootID: boot, SinceBoot: 9 * time.Minute, Finger: true, MatchScore: 42}),
	}
	out, err := j.AppendBatch(ps)
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}
	one, err := j.Append(ny(journal.Punch{Employee: "E111", Name: "Frances Allen", Kind: journal.KindLunch, Time: at(10), Source: clock.SourceNTP, ClockSet: true}))
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}
	out = append(out, one)
	// Real time comes: the punches of this boot whose time nothing vouched
	// for are placed (Corrected, OriginalTime).
	if _, err := j.CorrectClock(boot, at(20), 20*time.Minute); err != nil {
		return fmt.Errorf("correct: %w", err)
	}
	// The cloud acknowledges some: plain, fingerprint, corrected, unknown badge.
	var ack []journal.ID
	for _, i := range []int{0, 4, 5, 9} {
		ack = append(ack, out[i].ID)
	}
	if _, err := j.MarkAcked(ack, at(30)); err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	return nil
}

func read(dir string) error {
	st, j, err := open(dir, start.Add(24*time.Hour))
	if err != nil {
		return err
	}
	defer st.Close()
	defer j.Close()
	var s state
	if n, ok := st.Notice(); ok {
		s.Notice = n.Summary()
	}
	s.Aside, err = store.Damaged(dir)
	if err != nil {
		return err
	}
	s.Pending = j.Pending()
	if s.Punches, err = j.Recent(1 << 20); err != nil {
		return fmt.Errorf("recent: %w", err)
	}
	return json.NewEncoder(os.Stdout).Encode(s)
}
