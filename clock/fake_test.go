package clock

import (
	"testing"
	"time"
)

func TestFakeTimersFireInOrder(t *testing.T) {
	f := NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a := f.NewTimer(2 * time.Second)
	b := f.NewTimer(time.Second)
	f.Advance(time.Second)
	select {
	case <-b.C():
	default:
		t.Fatal("1s timer did not fire after 1s")
	}
	select {
	case <-a.C():
		t.Fatal("2s timer fired after 1s")
	default:
	}
	if a.Stop() != true {
		t.Fatal("Stop on an armed timer returned false")
	}
	f.Advance(time.Hour)
	select {
	case <-a.C():
		t.Fatal("stopped timer fired")
	default:
	}
	if f.Timers() != 0 {
		t.Fatalf("Timers() = %d, want 0", f.Timers())
	}
}

func TestFakeReset(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	tm := f.NewTimer(time.Second)
	tm.Reset(5 * time.Second)
	f.Advance(2 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("reset timer fired at its old deadline")
	default:
	}
	f.Advance(3 * time.Second)
	select {
	case <-tm.C():
	default:
		t.Fatal("reset timer did not fire")
	}
}

func TestIsSet(t *testing.T) {
	if IsSet(time.Date(1970, 1, 1, 0, 0, 10, 0, time.UTC)) {
		t.Error("1970 taken as set")
	}
	if !IsSet(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) {
		t.Error("2026 taken as unset")
	}
}

func TestBootIDAndSinceBoot(t *testing.T) {
	id, err := BootID()
	if err != nil || len(id) != 36 {
		t.Fatalf("BootID = %q, %v", id, err)
	}
	a, err := SinceBoot()
	if err != nil || a <= 0 {
		t.Fatalf("SinceBoot = %v, %v", a, err)
	}
	if b, _ := SinceBoot(); b < a {
		t.Fatalf("SinceBoot went back: %v then %v", a, b)
	}
}
