package journal

import (
	"testing"
	"time"
)

// benchRecord is a typical punch record as the clock writes it.
func benchRecord(b *testing.B) []byte {
	rec, err := encode(Punch{Employee: "E1042", Name: "Maria Gonzalez", Kind: KindIn, Department: "Assembly", Time: t0, TZ: "America/New_York",
		TZOffset: -18000, ClockSet: true, Seq: 150000, BootID: "0b6e4a7c-8d2f-4e7a-9c1b-2f3d4e5f6a7b", SinceBoot: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	return rec
}

// BenchmarkCheckRecord: the open-time check's work per record (the
// checksum included), which a start does for every punch held.
func BenchmarkCheckRecord(b *testing.B) {
	rec := benchRecord(b)
	b.SetBytes(int64(len(rec)))
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := checkRecord(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkEncodeRecord: a punch's encoding, on the punch path.
func BenchmarkEncodeRecord(b *testing.B) {
	p := Punch{Employee: "E1042", Name: "Maria Gonzalez", Kind: KindIn, Department: "Assembly", Time: t0, TZ: "America/New_York",
		TZOffset: -18000, ClockSet: true, Seq: 150000, BootID: "0b6e4a7c-8d2f-4e7a-9c1b-2f3d4e5f6a7b", SinceBoot: time.Hour}
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := encode(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
