package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/journal"
	"timeclock/clock"
	"timeclock/hal"
	"timeclock/hal/haltest"
	"timeclock/internal/await"
)

func alive(a *Agent, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return a.Alive(ctx)
}

func TestAliveAnswersUntilTheDisplayHangs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StateDir = t.TempDir()
	var disp *haltest.HangingDisplay
	r := startRigDisplay(t, cfg, 20, 4, clock.NewFake(rigStart), func(d hal.Display) hal.Display {
		disp = &haltest.HangingDisplay{Display: d}
		return disp
	})
	r.waitScreen("Badge or PIN")
	if err := alive(r.agent, 5*time.Second); err != nil {
		t.Fatalf("idle clock: %v", err)
	}
	disp.Hold()
	r.board.Press(hal.Key5) // the punch loop draws the entry screen and hangs in Show
	await.True(t, 5*time.Second, func() bool {
		return errors.Is(alive(r.agent, 20*time.Millisecond), ErrNotResponding)
	}, "Alive kept answering while the display hung the punch loop")
	err := alive(r.agent, 20*time.Millisecond)
	if !strings.Contains(fmt.Sprint(err), "punch loop") {
		t.Errorf("Alive = %v, want it to name the punch loop", err)
	}
	disp.Release()
	if err := alive(r.agent, 5*time.Second); err != nil {
		t.Fatalf("after the display came back: %v", err)
	}
	r.waitScreen("*")
}

// A journal writer stuck in a commit (here: waiting for bbolt's write lock,
// as for a disk that hangs an fsync) fails the check too, and the check names
// it, while the punch loop itself is idle and answers.
func TestAliveFailsWhileTheJournalWriterHangs(t *testing.T) {
	r := newRig(t, DefaultConfig(), 20, 4)
	r.waitScreen("Badge or PIN")
	if err := alive(r.agent, 5*time.Second); err != nil {
		t.Fatalf("idle clock: %v", err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	go r.agent.stateFile.Load().DB().Update(func(*bolt.Tx) error { close(held); <-release; return nil })
	<-held
	appended := make(chan error, 1)
	go func() {
		_, err := r.agent.Journal().Append(journal.Punch{Employee: "E1", Kind: journal.KindIn, Time: rigStart, TZ: "UTC", ClockSet: true})
		appended <- err
	}()
	var err error
	await.True(t, 5*time.Second, func() bool {
		err = alive(r.agent, 20*time.Millisecond)
		return errors.Is(err, ErrNotResponding)
	}, "Alive kept answering while the journal writer hung")
	if !strings.Contains(err.Error(), "journal writer") {
		t.Errorf("Alive = %v, want it to name the journal writer", err)
	}
	close(release)
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	if err := alive(r.agent, 5*time.Second); err != nil {
		t.Fatalf("after the commit went through: %v", err)
	}
}
