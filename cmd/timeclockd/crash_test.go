package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"timeclock/internal/daemontest"
	"timeclock/internal/punchcheck"
)

// writeWorkers writes a roster of n employees: W000000... with badges
// 1000000+i, so every punch of the crash test is a different person and
// its accepted screen (the name) says which punch it was.
func writeWorkers(t testing.TB, dir string, n int) string {
	t.Helper()
	type emp struct {
		ID     string   `json:"id"`
		Name   string   `json:"name"`
		Badges []string `json:"badges"`
	}
	emps := make([]emp, n)
	for i := range emps {
		emps[i] = emp{ID: fmt.Sprintf("E%06d", i), Name: workerName(i), Badges: []string{strconv.Itoa(1_000_000 + i)}}
	}
	b, err := json.Marshal(map[string]any{"version": 1, "employees": emps})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "workers.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func workerName(i int) string { return fmt.Sprintf("W%06d", i) }

// TestCrashSafety kills a real timeclockd with SIGKILL at random moments
// while badges are swiped as fast as the clock takes them, restarts it,
// and checks the journal: every punch whose accepted screen was seen is
// there, none is there twice, sequence numbers strictly increase.
// TIMECLOCK_CRASH_KILLS sets the number of kills (make soak: 1000).
//
// Punches cycle through a roster of crashWorkers employees, so the name on
// the accepted screen always differs from the screen before it. Per
// employee the journal must then hold at least the accepted punches and at
// most those plus the ones sent but not seen (killed between the fsync and
// the screen): a lost punch breaks the first bound, a doubled one the second.
func TestCrashSafety(t *testing.T) {
	kills := 30
	if v := os.Getenv("TIMECLOCK_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TIMECLOCK_CRASH_KILLS=%q", v)
		}
		kills = n
	}
	const crashWorkers = 100
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	sock := filepath.Join(dir, "sim.sock")
	roster := writeWorkers(t, t.TempDir(), crashWorkers)
	cfg := writeConfig(t, t.TempDir(), map[string]any{"duplicate_window": "0s"})
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	accepted := map[string]int{} // employee -> punches seen accepted
	unseen := map[string]int{}   // employee -> punches sent, screen not seen
	total, next := 0, 0
	for k := range kills {
		p := daemontest.Start(t, bin, "--state-dir", dir, "--sim-socket", sock, "--roster-file", roster, "--config", cfg, "--log-level", "warn")
		s := daemontest.DialSim(t, sock, 20*time.Second)
		s.WaitScreen("Badge or PIN", 20*time.Second)
		// Kill somewhere in the next few punches: before, during or just
		// after a commit.
		killer := time.AfterFunc(time.Duration(rng.IntN(30_000))*time.Microsecond, func() { p.Cmd.Process.Kill() })
		for {
			i := next % crashWorkers
			next++
			emp := fmt.Sprintf("E%06d", i)
			if _, err := s.Try("badge %d", 1_000_000+i); err != nil {
				break // killed before the clock had it
			}
			r, err := s.Try("wait 5000 %s", workerName(i))
			if err != nil || r["ok"] != true {
				unseen[emp]++
				break
			}
			accepted[emp]++
			total++
		}
		killer.Stop()
		p.Cmd.Process.Kill()
		p.Wait(t, 10*time.Second)
		if (k+1)%100 == 0 {
			t.Logf("%d kills, %d punches accepted", k+1, total)
		}
	}
	if total < kills {
		t.Fatalf("only %d punches accepted in %d runs: the clock did not get to work", total, kills)
	}

	ps := punchcheck.Read(t, dir)
	var emps []string
	for i := range crashWorkers {
		emps = append(emps, fmt.Sprintf("E%06d", i))
	}
	punchcheck.Accepted(t, ps, emps, accepted, unseen)
	t.Logf("%d kills, %d punches accepted, %d in the journal", kills, total, len(ps))
}
