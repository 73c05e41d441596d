package ratelimit

import (
	"fmt"
	"testing"
	"time"

	"timeclock/clock"
)

func TestBucket(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	l := New(clk, Rate{Burst: 3, Every: 10 * time.Second})
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("try %d refused within the burst", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != 10*time.Second {
		t.Fatalf("4th try: ok %v wait %v, want refused for 10s", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key shares the bucket")
	}
	clk.Advance(4 * time.Second)
	if ok, wait := l.Check("a"); ok || wait != 6*time.Second {
		t.Fatalf("after 4s: ok %v wait %v, want 6s", ok, wait)
	}
	clk.Advance(6 * time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("no token after the refill time")
	}
	clk.Advance(time.Hour)
	for i := 0; i < 3; i++ {
		l.Allow("a")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("refill exceeded the burst")
	}
}

func TestCheckAndTake(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	l := New(clk, Rate{Burst: 2, Every: time.Minute})
	for i := 0; i < 5; i++ {
		if ok, _ := l.Check("k"); !ok {
			t.Fatal("Check took a token")
		}
	}
	l.Take("k")
	l.Take("k")
	l.Take("k") // never below zero
	if ok, wait := l.Check("k"); ok || wait != time.Minute {
		t.Fatalf("after taking all: ok %v wait %v", ok, wait)
	}
	clk.Advance(time.Minute)
	if ok, _ := l.Check("k"); !ok {
		t.Fatal("a minute did not refill one token (Take went below zero?)")
	}
}

func TestClockBackwardsDoesNotRefill(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	l := New(clk, Rate{Burst: 1, Every: time.Minute})
	l.Allow("k")
	clk.Set(start.Add(-time.Hour))
	if ok, _ := l.Allow("k"); ok {
		t.Fatal("setting the clock back refilled the bucket")
	}
}

func TestPruneDropsIdleKeys(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	l := New(clk, Rate{Burst: 1, Every: time.Second})
	for i := 0; i < maxKeys; i++ {
		l.Allow(fmt.Sprint(i))
	}
	l.Allow("busy")
	clk.Advance(time.Minute)
	l.Allow("new")
	l.mu.Lock()
	n := len(l.buckets)
	l.mu.Unlock()
	if n > 2 {
		t.Fatalf("%d buckets after pruning, want the idle ones gone", n)
	}
}
