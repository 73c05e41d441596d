package agent

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/clock"
	"timeclock/internal/await"
	"timeclock/internal/punchcheck"
)

// The damage corpus the journal's fuzz test uses: a real clock's state
// file, 45 punches (10 acked), the demo roster.
const (
	damageCorpus    = "journal/testdata/damage/state-45.db"
	bigDamageCorpus = "journal/testdata/damage/state-1000.db" // 1,000 punches, 300 acked: branch pages
)

// corpusPunches is the sequence numbers of the punches in a corpus file.
func corpusPunches(t *testing.T, orig []byte, total int) map[uint64]bool {
	t.Helper()
	dir := corpusDir(t, orig)
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	j, err := journal.Open(st, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ps, err := j.Recent(10_000)
	if err != nil || len(ps) != total {
		t.Fatalf("corpus has %d punches (%v), want %d", len(ps), err, total)
	}
	want := map[uint64]bool{}
	for _, p := range ps {
		want[p.Seq] = true
	}
	return want
}

type damage struct {
	name string
	// apply damages the state directory dir whose state file is orig.
	apply  func(t *testing.T, dir string, orig []byte)
	lost   bool // nothing readable is left: "storage lost"
	big    bool // on the bigger corpus
	notice bool // the damage notice must come (a punch was hit)
}

func writeState(t *testing.T, dir string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, store.FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func damaged(f func(b []byte) []byte) func(*testing.T, string, []byte) {
	return func(t *testing.T, dir string, orig []byte) { writeState(t, dir, f(bytes.Clone(orig))) }
}

// damageKinds is every kind of damage issue 14 names.
func damageKinds(orig []byte) []damage {
	var ds []damage
	pages := len(orig) / 4096
	for p := range pages {
		ds = append(ds, damage{name: fmt.Sprintf("4 KiB of 0xAA over page %d", p), apply: damaged(func(b []byte) []byte {
			copy(b[p*4096:], bytes.Repeat([]byte{0xAA}, 4096))
			return b
		})})
	}
	// Flips land in the pages the file uses (the rest is free space: a
	// flip there harms nothing, as the 0xAA rows over free pages show).
	used := 8 * 4096
	r := rand.New(rand.NewPCG(14, 14))
	for range 8 {
		off := r.IntN(used - 10)
		ds = append(ds, damage{name: fmt.Sprintf("10-byte flip at %d", off), apply: damaged(func(b []byte) []byte {
			for k := range 10 {
				b[off+k] ^= 0xFF
			}
			return b
		})})
		bit := r.IntN(used * 8)
		ds = append(ds, damage{name: fmt.Sprintf("bit flip at byte %d bit %d", bit/8, bit%8), apply: damaged(func(b []byte) []byte {
			b[bit/8] ^= 1 << (bit % 8)
			return b
		})})
	}
	for _, n := range []int{0, 1, 100, 4096, 8192, 12288, 12236, 20000, 32768, len(orig) - 4096, len(orig) - 1} {
		ds = append(ds, damage{name: fmt.Sprintf("truncated to %d bytes", n), lost: n == 0, apply: damaged(func(b []byte) []byte { return b[:n] })})
	}
	ds = append(ds,
		damage{name: "first meta page zeroed", apply: damaged(func(b []byte) []byte { clear(b[:4096]); return b })},
		damage{name: "second meta page zeroed", apply: damaged(func(b []byte) []byte { clear(b[4096:8192]); return b })},
		damage{name: "both meta pages zeroed", apply: damaged(func(b []byte) []byte { clear(b[:8192]); return b })},
		damage{name: "whole file zeroed", apply: damaged(func(b []byte) []byte { clear(b); return b })},
		damage{name: "employee E104 with illegal base64", apply: func(t *testing.T, dir string, orig []byte) {
			writeState(t, dir, orig)
			db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(store.BucketRosterEmployees).Put([]byte("E104"), []byte(`{"id":"E104","name":"Hedy Lamarr","badges":["10005"],"pin_hash":"!!notbase64!!"}`))
			})
			if err != nil {
				t.Fatal(err)
			}
		}},
		damage{name: "a directory in its place", lost: true, apply: func(t *testing.T, dir string, _ []byte) {
			os.Mkdir(filepath.Join(dir, store.FileName), 0o700)
		}},
		damage{name: "a dangling link in its place", lost: true, apply: func(t *testing.T, dir string, _ []byte) {
			os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, store.FileName))
		}},
		damage{name: "missing", lost: true, apply: func(*testing.T, string, []byte) {}},
	)
	// A bit flipped inside a punch record that still decodes (a letter
	// of the name, a low bit of the time): the record's CRC-32C says so.
	// Every copy of punch 45 is hit (freed pages hold older ones).
	for _, at := range []struct {
		what string
		off  func(rec []byte) int
	}{
		{"its name", func(rec []byte) int { return bytes.Index(rec, []byte("Lovelace")) }},
		{"its time", func([]byte) int { return 3 }}, // version, flags, seq 45, then the time's low bits
	} {
		ds = append(ds, damage{name: "bit 0 flipped in punch 45's record: " + at.what, notice: true, apply: damaged(func(b []byte) []byte {
			key := binary.BigEndian.AppendUint64(nil, 45)
			for i := 0; ; {
				k := bytes.Index(b[i:], key)
				if k < 0 {
					break
				}
				v := i + k + len(key)
				if off := at.off(b[v:min(v+60, len(b))]); v < len(b) && b[v] == 2 && off >= 0 {
					b[v+off] ^= 1
				}
				i = v
			}
			return b
		})})
	}
	return ds
}

// startBound is what the tests hold a start to. The goal is 1 s, and the
// table's numbers (printed, and in docs/storage.md) show it met with
// room (at most 0.61 s under -race at load 12). The bound is looser so a
// run beside other test suites on the shared 2-core machine (fsyncs
// queued behind theirs) does not fail; a crash loop or a hang still does.
const startBound = 3 * time.Second

// damageReport collects the table the closing note gives.
var damageReport struct {
	sync.Mutex
	rows []string
}

// TestDamagedStateFiles starts the clock on every kind of damaged state
// file: it reaches its idle screen with the damage notice, logs it, puts
// it in its check-in, keeps every punch that can still be read, takes a
// punch, and starts again without setting anything aside twice.
func TestDamagedStateFiles(t *testing.T) {
	orig, err := os.ReadFile(damageCorpus)
	if err != nil {
		t.Fatal(err)
	}
	big, err := os.ReadFile(bigDamageCorpus)
	if err != nil {
		t.Fatal(err)
	}
	kinds := damageKinds(orig)
	// The bigger corpus has branch pages: garbage over each of its pages,
	// and a bucket's root page id made wild (bbolt's own check faults).
	for p := range len(big) / 4096 {
		kinds = append(kinds, damage{name: fmt.Sprintf("1000 punches: 4 KiB of 0xAA over page %d", p), big: true, apply: damaged(func(b []byte) []byte {
			copy(b[p*4096:], bytes.Repeat([]byte{0xAA}, 4096))
			return b
		})})
	}
	kinds = append(kinds, damage{name: "a bucket root page id pointing far outside the file", apply: damaged(func(b []byte) []byte {
		copy(b[17189:], []byte{0xAA, 0xAA, 0xAA, 0})
		return b
	})})
	for _, d := range kinds {
		orig, total := orig, 45
		if d.big {
			orig, total = big, 1000
		}
		want := corpusPunches(t, orig, total)
		t.Run(d.name, func(t *testing.T) {
			cfg := rosterConfig(t)
			cfg.StateDir = t.TempDir()
			os.WriteFile(filepath.Join(cfg.StateDir, store.MarkerName), []byte("x\n"), 0o600)
			d.apply(t, cfg.StateDir, orig)
			after, _ := os.ReadFile(filepath.Join(cfg.StateDir, store.FileName))
			readable := punchcheck.Readable(orig, after, want)

			start := time.Now()
			r := startRig(t, cfg, 20, 4, clock.NewFake(rigStart))
			scr := await.Value(t, 5*time.Second, func() (string, bool) {
				s := strings.Join(r.board.Screen(), "\n")
				return s, strings.Contains(s, "call service") || strings.Contains(s, "Badge or PIN")
			}, "no idle screen")
			took := time.Since(start)
			if took > startBound {
				t.Errorf("idle screen after %v, want within %v", took, startBound)
			}
			noticed := strings.Contains(scr, "call service")
			what := "storage damaged"
			if d.lost {
				what = "storage lost"
			}
			st := r.agent.stateFile.Load()
			f := (&syncDevice{a: r.agent, st: st}).Facts()
			switch {
			case noticed && !strings.Contains(r.log.String(), what):
				t.Errorf("log does not say %q", what)
			case noticed && !strings.HasPrefix(f.Storage, what):
				t.Errorf("check-in storage = %q, want %q", f.Storage, what)
			case !noticed && f.Storage != "":
				t.Errorf("check-in storage = %q without the notice on screen", f.Storage)
			}
			all, err := r.journal().Recent(10_000)
			if err != nil {
				t.Fatal(err)
			}
			kept := map[uint64]bool{}
			for _, p := range all {
				if want[p.Seq] {
					kept[p.Seq] = true
				}
			}
			for s := range readable {
				if !kept[s] {
					t.Errorf("readable punch %d lost", s)
				}
			}
			if d.notice && !noticed {
				t.Errorf("no damage notice")
			}
			if !noticed && len(kept) != len(want) {
				// Damage only where nothing lives (a free page, the
				// unused end of a page) needs no notice; a loss does.
				t.Errorf("%d of %d punches kept, and no damage notice", len(kept), len(want))
			}
			// The clock works: a punch.
			before := r.journal().Pending()
			r.badge("10002")
			r.waitScreen("Grace Hopper")
			await.True(t, 5*time.Second, func() bool { return r.journal().Pending() == before+1 }, "punch not recorded")
			if err := r.stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			aside, _ := store.Damaged(cfg.StateDir)
			// And again: no loop, the notice stays, nothing set aside twice.
			r2 := startRig(t, cfg, 20, 4, clock.NewFake(rigStart.Add(time.Minute)))
			if noticed {
				r2.waitScreen("call service")
			} else {
				r2.waitScreen("Badge or PIN")
			}
			if again, _ := store.Damaged(cfg.StateDir); len(again) != len(aside) {
				t.Errorf("set aside again on the second start: %v", again)
			}
			damageReport.Lock()
			damageReport.rows = append(damageReport.rows, fmt.Sprintf("| %s | %.3f | %d of %d | %v |", d.name, took.Seconds(), len(kept), len(readable), noticed))
			damageReport.Unlock()
		})
	}
	t.Logf("damage kind | start (s) | punches kept of readable | notice\n%s", strings.Join(damageReport.rows, "\n"))
}

// corpusDir is a state directory holding a copy of orig.
func corpusDir(t *testing.T, orig []byte) string {
	t.Helper()
	dir := t.TempDir()
	writeState(t, dir, orig)
	return dir
}

// TestDamagedStateFileOnFullDisk: a damaged state file on a full disk
// cannot be salvaged yet. The clock does not exit: it says "Storage
// ERROR", answers the watchdog, keeps the damaged file where it is, and
// salvages it once there is room. It needs a small tmpfs (root).
func TestDamagedStateFileOnFullDisk(t *testing.T) {
	orig, err := os.ReadFile(damageCorpus)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("no tmpfs to fill (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	cfg := rosterConfig(t)
	cfg.StateDir = dir
	os.WriteFile(filepath.Join(dir, store.MarkerName), []byte("x\n"), 0o600)
	d := bytes.Clone(orig)
	clear(d[:4096]) // the first meta page: only a salvage brings back the last commit
	writeState(t, dir, d)
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			break // full
		}
	}
	f.Close()

	clk := clock.NewFake(rigStart)
	start := time.Now()
	r := startRig(t, cfg, 20, 4, clk)
	r.waitScreen("Storage ERROR")
	if took := time.Since(start); took > startBound {
		t.Errorf("Storage ERROR after %v, want within %v", took, startBound)
	}
	if !strings.Contains(r.log.String(), "STORAGE ERROR") {
		t.Error("not logged")
	}
	if st := r.agent.Status().State; st != StateStorageError {
		t.Errorf("status state %v, want storage-error", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.agent.Alive(ctx); err != nil {
		t.Errorf("watchdog check while waiting for room: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, store.FileName)); !bytes.Equal(got, d) {
		t.Error("the damaged file did not stay where it was, whole")
	}
	// Room again: the next try salvages.
	os.Remove(filler)
	await.True(t, 5*time.Second, func() bool { return clk.Timers() > 0 }, "no retry armed")
	clk.Advance(5 * time.Second)
	r.waitScreen("call service")
	all, err := r.journal().Recent(1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 45 {
		t.Errorf("%d punches after the salvage, want 45", len(all))
	}

	// Full again, now with a sound file: punches are refused on screen
	// (or fit in the file's free pages), and a restart starts normally.
	fill := func() {
		f, err := os.Create(filler)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := f.Write(make([]byte, 4096)); err != nil {
				break
			}
		}
		f.Close()
	}
	fill()
	for _, b := range []struct{ badge, name string }{{"10002", "Grace Hopper"}, {"10003", "Alan Turing"}} {
		r.badge(b.badge)
		await.Value(t, 5*time.Second, func() (string, bool) {
			s := strings.Join(r.board.Screen(), "\n")
			return s, strings.Contains(s, "Punch NOT saved") || strings.Contains(s, b.name)
		}, "no answer to %s's punch on a full disk", b.name)
		clk.Advance(5 * time.Second) // back to idle
		r.waitScreen("call service")
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run on a full disk: %v", err)
	}
	r2 := startRig(t, cfg, 20, 4, clock.NewFake(rigStart.Add(time.Hour)))
	r2.waitScreen("call service")
	if n, err := r2.journal().Recent(1000); err != nil || len(n) < 45 {
		t.Errorf("after a restart on a full disk: %d punches, %v", len(n), err)
	}
}
