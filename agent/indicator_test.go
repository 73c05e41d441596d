package agent

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"timeclock/hal"
	"timeclock/internal/await"
)

// fakeIndicator records LEDs and beeps; a beep waits until release is
// closed, as a real buzzer takes its time.
type fakeIndicator struct {
	mu      sync.Mutex
	leds    map[hal.LED]bool
	beeps   []hal.Pattern
	entered chan struct{} // a beep started
	release chan struct{}
	ledErr  error
}

func (f *fakeIndicator) String() string { return "fake" }
func (f *fakeIndicator) Halt() error    { return nil }
func (f *fakeIndicator) SetLED(l hal.LED, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leds[l] = on
	return f.ledErr
}
func (f *fakeIndicator) Beep(ctx context.Context, p hal.Pattern) error {
	select {
	case f.entered <- struct{}{}:
	default:
	}
	select {
	case <-f.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.beeps = append(f.beeps, p)
	return nil
}

func (f *fakeIndicator) state() (map[hal.LED]bool, []hal.Pattern) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return map[hal.LED]bool{hal.LEDGreen: f.leds[hal.LEDGreen], hal.LEDRed: f.leds[hal.LEDRed]}, append([]hal.Pattern(nil), f.beeps...)
}

func TestSignal(t *testing.T) {
	f := &fakeIndicator{leds: map[hal.LED]bool{}, entered: make(chan struct{}, 1), release: make(chan struct{})}
	s := newSignaler(f, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	s.Signal(false)
	if leds, _ := f.state(); !leds[hal.LEDRed] || leds[hal.LEDGreen] {
		t.Fatalf("after a refusal: %v", leds)
	}
	// The buzzer is stuck on the first beep: Signal still returns at once,
	// dropping what does not fit the queue (4).
	select {
	case <-f.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the first beep never started")
	}
	for range 10 {
		s.Signal(true)
	}
	if leds, _ := f.state(); !leds[hal.LEDGreen] || leds[hal.LEDRed] {
		t.Fatalf("after an accept: %v", leds)
	}
	close(f.release)
	want := []hal.Pattern{hal.PatternError, hal.PatternOK, hal.PatternOK, hal.PatternOK, hal.PatternOK}
	await.True(t, 5*time.Second, func() bool { _, b := f.state(); return len(b) == len(want) }, "beeps never sounded")
	if _, b := f.state(); !reflect.DeepEqual(b, want) {
		t.Fatalf("beeps %v, want %v", b, want)
	}
	s.Off()
	if leds, _ := f.state(); leds[hal.LEDGreen] || leds[hal.LEDRed] {
		t.Fatalf("after Off: %v", leds)
	}
	// A failing LED is logged, not fatal.
	f.ledErr = errors.New("i2c: nack")
	s.Signal(true)
}
