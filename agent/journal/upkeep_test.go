package journal

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"timeclock/internal/syncbuf"
)

// Record warns once when the journal crosses WarnFill (Maintain does not
// warn again), and a full journal refuses the punch and says so.
func TestRecordRefusesFullAndWarns(t *testing.T) {
	log := &syncbuf.Buffer{}
	_, j := openJournal(t, t.TempDir(), Options{Capacity: 100, Logger: slog.New(slog.NewTextHandler(log, nil))})
	ps := make([]Punch, 79)
	for i := range ps {
		ps[i] = Punch{Badge: "1", Kind: KindIn, Time: t0, TZ: "UTC", ClockSet: true}
	}
	if _, err := j.AppendBatch(ps); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Record(punch("E101", KindIn, t0)); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "storage 80% full"); n != 1 {
		t.Fatalf("%d warnings at 80%%:\n%s", n, log)
	}
	j.Maintain(t0)
	if n := strings.Count(log.String(), "storage 80% full"); n != 1 {
		t.Fatalf("warned again without dropping below the level: %d", n)
	}
	if _, err := j.AppendBatch(ps[:20]); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Record(punch("E101", KindOut, t0)); !errors.Is(err, ErrFull) {
		t.Fatalf("record on a full journal: %v", err)
	}
	if !strings.Contains(log.String(), "STORAGE FULL") || j.Pending() != 100 {
		t.Fatalf("pending %d; log:\n%s", j.Pending(), log)
	}
}
