package booted

import (
	"strings"
	"testing"
	"time"
)

func TestParseSamples(t *testing.T) {
	rec, err := parseSamples("noise\ns 1000000\nd 9\ns 3000000\r\ns 2000000\npending 3\n", "s", 3)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Len() != 3 || rec.Percentile(50) != 2*time.Millisecond || rec.Percentile(100) != 3*time.Millisecond {
		t.Fatalf("got %d samples, p50 %v, max %v", rec.Len(), rec.Percentile(50), rec.Percentile(100))
	}
	for _, tc := range []struct{ out, want string }{
		{"s 1\ns 2\n", "2 samples, want 3"},
		{"s 1\ns x\ns 3\n", `sample line "s x\n": not a duration in ns`},
		{"s -5\n", "not a duration"},
	} {
		if _, err := parseSamples(tc.out, "s", 3); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseSamples(%q) = %v, want an error with %q", tc.out, err, tc.want)
		}
	}
}

func TestParseDiskStat(t *testing.T) {
	out := "dm 10 0 80 4 120 0 960 600 0 700 604 0 0 0 0 44 220\n" +
		"disk 12 1 96 5 130 3 1000 650 0 710 655 0 0 0 0 46 230\n"
	st, err := parseDiskStat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st != (diskStat{dmWrites: 120, dmFlushes: 44, diskWrites: 130, diskFlushes: 46}) {
		t.Fatalf("got %+v", st)
	}
	for _, tc := range []struct{ out, want string }{
		{"dm 1 2 3 4 5 6 7 8 9 10 11\ndisk 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", "want at least 16"},
		{"dm 1 2 3 4 x 6 7 8 9 10 11 12 13 14 15 16 17\n", "not counts"},
		{"disk 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", "want a dm line and a disk line"},
	} {
		if _, err := parseDiskStat(tc.out); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseDiskStat(%q) = %v, want an error with %q", tc.out, err, tc.want)
		}
	}
}

func FuzzParseSamples(f *testing.F) {
	f.Add("s 1\ns 2\npending 2\n", 2)
	f.Add("s -1\n", 1)
	f.Fuzz(func(t *testing.T, out string, n int) {
		rec, err := parseSamples(out, "s", n)
		if err == nil && (rec.Len() != n || (n > 0 && rec.Percentile(0) < 0)) {
			t.Fatalf("parseSamples(%q, %d): %d samples, min %v", out, n, rec.Len(), rec.Percentile(0))
		}
	})
}

func FuzzParseDiskStat(f *testing.F) {
	f.Add("dm 10 0 80 4 120 0 960 600 0 700 604 0 0 0 0 44 220\ndisk 12 1 96 5 130 3 1000 650 0 710 655 0 0 0 0 46 230\n")
	f.Fuzz(func(t *testing.T, out string) {
		parseDiskStat(out) // must not panic
	})
}
