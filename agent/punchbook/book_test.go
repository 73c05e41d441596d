package punchbook

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/agent/journal"
	"timeclock/clock"
	"timeclock/internal/syncbuf"
)

const rosterJSON = `{"version": 1, "employees": [
 {"id": "E100", "name": "Ada Lovelace", "badges": ["10001"], "pin": "1234", "departments": ["Assembly", "Shipping"]},
 {"id": "E101", "name": "Grace Hopper", "badges": ["0042"], "pin": "2345"}]}`

type bookRig struct {
	*Book
	clk     *clock.Fake
	log     *syncbuf.Buffer
	punched int
	boot    time.Time // CLOCK_BOOTTIME's start on the fake clock
}

func openBook(t *testing.T, now time.Time, capacity int) *bookRig {
	t.Helper()
	dir := t.TempDir()
	rf := filepath.Join(dir, "roster.json")
	if err := os.WriteFile(rf, []byte(rosterJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	r := &bookRig{clk: clock.NewFake(now), log: &syncbuf.Buffer{}, boot: now.Add(-time.Hour)}
	r.Book, err = Open(Options{
		Dir: dir, Capacity: capacity, Retention: 24 * time.Hour, RosterFile: rf,
		Logger: slog.New(slog.NewTextHandler(r.log, nil)), Clock: r.clk,
		Location: func() *time.Location { return ny },
		BootID:   "boot-1", SinceBoot: func() time.Duration { return r.clk.Now().Sub(r.boot) },
		Punched: func() { r.punched++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

func TestLookupAndRecord(t *testing.T) {
	now := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	r := openBook(t, now, 1000)

	ada := r.Lookup("", "1234")
	if !ada.Found || !ada.ViaPIN || ada.Employee != "E100" || ada.Name != "Ada Lovelace" || len(ada.Departments) != 2 || !ada.Active || ada.Last != nil {
		t.Fatalf("PIN 1234: %+v", ada)
	}
	if p := r.Lookup("", "9999"); p.Found || !p.ViaPIN {
		t.Fatalf("unknown PIN: %+v", p)
	}
	if strings.Contains(r.log.String(), "9999") || strings.Contains(r.log.String(), "1234") {
		t.Fatalf("a PIN reached the log:\n%s", r.log)
	}
	if p := r.Lookup("42", ""); !p.Found || p.Employee != "E101" {
		t.Fatalf("badge 42 (stored as 0042): %+v", p)
	}
	// Unknown badges are known by their number as the roster matches it.
	if p := r.Lookup("0099", ""); p.Found || p.Badge != "99" {
		t.Fatalf("unknown badge: %+v", p)
	}

	out, err := r.Record(journal.Punch{Employee: "E100", Name: "Ada Lovelace", Kind: journal.KindIn, Department: "Shipping"})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Time.Equal(now) || out.TZ != "America/New_York" || out.TZOffset != -5*3600 || !out.ClockSynced || out.Seq == 0 || r.punched != 1 {
		t.Fatalf("recorded %+v, punched %d", out, r.punched)
	}
	ada = r.Lookup("10001", "")
	if ada.Last == nil || ada.Last.Kind != journal.KindIn || ada.Last.Department != "Shipping" {
		t.Fatalf("last punch after recording: %+v", ada.Last)
	}
	if _, err := r.Record(journal.Punch{Badge: "99", Kind: journal.KindIn}); err != nil {
		t.Fatal(err)
	}
	if p := r.Lookup("0099", ""); p.Last == nil {
		t.Fatal("an unknown badge's punch is not its last punch")
	}
}

// A punch on an unset clock carries the boot ID and time since boot, and is
// moved to real time by the housekeeping once the clock is set.
func TestUnsetClockPunchCorrected(t *testing.T) {
	unset := time.Date(1970, 1, 1, 0, 2, 0, 0, time.UTC)
	r := openBook(t, unset, 1000)
	out, err := r.Record(journal.Punch{Employee: "E101", Kind: journal.KindIn})
	if err != nil {
		t.Fatal(err)
	}
	if out.ClockSynced || out.BootID != "boot-1" || out.SinceBoot != time.Hour {
		t.Fatalf("unset-clock punch %+v", out)
	}
	real := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	r.boot = real.Add(-time.Hour - 30*time.Second) // 30 s after the punch
	r.clk.Set(real)
	r.Maintain()
	ps, err := r.Journal().PendingAfter(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !ps[0].Corrected || !ps[0].Time.Equal(real.Add(-30*time.Second)) {
		t.Fatalf("after the clock was set: %+v", ps[0])
	}
}

func TestFullRefusesAndWarns(t *testing.T) {
	r := openBook(t, time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), 100)
	ps := make([]journal.Punch, 79)
	for i := range ps {
		ps[i] = journal.Punch{Badge: "1", Kind: journal.KindIn, Time: r.clk.Now(), TZ: "UTC", ClockSynced: true}
	}
	if _, err := r.Journal().AppendBatch(ps); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Record(journal.Punch{Employee: "E101", Kind: journal.KindIn}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(r.log.String(), "storage 80% full"); n != 1 {
		t.Fatalf("%d warnings at 80%%:\n%s", n, r.log)
	}
	r.Maintain()
	if n := strings.Count(r.log.String(), "storage 80% full"); n != 1 {
		t.Fatalf("warned again without dropping below the level: %d", n)
	}
	if _, err := r.Journal().AppendBatch(ps[:20]); err != nil {
		t.Fatal(err)
	}
	_, err := r.Record(journal.Punch{Employee: "E101", Kind: journal.KindOut})
	if !errors.Is(err, journal.ErrFull) || r.punched != 1 {
		t.Fatalf("record on a full journal: %v (punched %d)", err, r.punched)
	}
	if !strings.Contains(r.log.String(), "STORAGE FULL") || r.Journal().Pending() != 100 {
		t.Fatalf("pending %d; log:\n%s", r.Journal().Pending(), r.log)
	}
}
