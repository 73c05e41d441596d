package journal_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/clock"
)

// A state file written by the code before the record checksum (version 1
// records: testdata/v1/state-45.db, the damage corpus as it was then, 45
// punches, 10 acked) opens as sound, every punch reads back as written,
// and acking rewrites records as version 2 beside the version 1 ones:
// the mixed file opens as sound again with the same punches.
func TestVersion1StateFile(t *testing.T) {
	orig, err := os.ReadFile("testdata/v1/state-45.db")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, store.FileName), orig, 0o600)
	clk := clock.NewFake(corpusStart.Add(2 * time.Hour))
	st, j, ros := openClock(t, dir, clk)
	if n, ok := st.Notice(); ok {
		t.Fatalf("a version 1 file is taken as damaged: %+v", n)
	}
	emps := ros.Current().Employees()
	before := allPunches(t, j)
	if len(before) != 45 || j.Pending() != 35 {
		t.Fatalf("%d punches, %d pending; want 45, 35", len(before), j.Pending())
	}
	// As TestMakeDamageCorpus wrote them.
	for i := range 45 {
		p, e := before[uint64(i+1)], emps[i%len(emps)]
		kind := journal.KindIn
		if (i/len(emps))%2 == 1 {
			kind = journal.KindOut
		}
		if p.Employee != e.ID || p.Name != e.Name || p.Kind != kind || !p.Time.Equal(corpusStart.Add(time.Duration(i)*time.Minute)) ||
			p.TZ != "America/New_York" || p.TZOffset != -5*3600 || !p.ClockSet || p.Source != clock.SourceNTP || (p.State == journal.StateAcked) != (i < 10) {
			t.Errorf("punch %d read as %+v", i+1, p)
		}
	}
	if n, err := j.MarkAckedThrough(20, clk.Now()); err != nil || n != 10 {
		t.Fatalf("MarkAckedThrough = %d, %v", n, err)
	}
	j.Close()
	st.Close()
	st, j, _ = openClock(t, dir, clk)
	defer st.Close()
	defer j.Close()
	if n, ok := st.Notice(); ok {
		t.Fatalf("the file with version 1 and 2 records is taken as damaged: %+v", n)
	}
	after := allPunches(t, j)
	for seq, w := range before {
		p := after[seq]
		if seq > 10 && seq <= 20 {
			if p.State != journal.StateAcked || !p.AckedAt.Equal(clk.Now()) {
				t.Errorf("punch %d: %s at %v, want acked at %v", seq, p.State, p.AckedAt, clk.Now())
			}
			p.State, p.AckedAt = w.State, w.AckedAt
		}
		if p != w {
			t.Errorf("punch %d after the rewrite:\n%+v\nwant\n%+v", seq, p, w)
		}
	}
}
