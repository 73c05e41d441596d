package evdev

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/hal"
	"timeclock/hal/haltest"
	"timeclock/internal/await"
)

// device stands in for /dev/input/eventN: each open is a new pipe, and the
// test writes input_event structs into the newest one.
type device struct {
	mu    sync.Mutex
	w     *os.File
	opens int
	clock time.Time
}

func (d *device) open() (io.ReadCloser, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.w = w
	d.opens++
	return r, nil
}

// unplug ends the current pipe as a vanished device ends its reads.
func (d *device) unplug() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.w.Close()
}

// send writes events, time-stamped step after the previous ones.
func (d *device) send(t testing.TB, step time.Duration, evs ...Event) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.clock.IsZero() {
		d.clock = time.Unix(1_700_000_000, 0)
	}
	var b []byte
	for _, ev := range evs {
		if ev.Time.IsZero() {
			d.clock = d.clock.Add(step)
			ev.Time = d.clock
		}
		b = AppendEvent(b, ev, EventSize)
	}
	if _, err := d.w.Write(b); err != nil {
		t.Fatal(err)
	}
}

// tap is a key press, release and sync, as a keyboard sends it.
func tap(code uint16) []Event {
	return []Event{{Type: evKey, Code: code, Value: valuePress}, {Type: evSyn}, {Type: evKey, Code: code, Value: valueRelease}, {Type: evSyn}}
}

func TestEventSizeForThisArch(t *testing.T) {
	want := map[int]int{32: 16, 64: 24}[strconv.IntSize]
	if EventSize != want {
		t.Fatalf("EventSize = %d on a %d-bit program, want %d", EventSize, strconv.IntSize, want)
	}
}

func TestParseEventRoundTrip(t *testing.T) {
	ev := Event{Time: time.Unix(1_700_000_123, 456_789_000), Type: evKey, Code: keyKPEnter, Value: valueRepeat}
	for _, size := range []int{16, 24} {
		b := AppendEvent(nil, ev, size)
		if len(b) != size {
			t.Fatalf("size %d: encoded %d bytes", size, len(b))
		}
		got, err := ParseEvent(b, size)
		if err != nil || !got.Time.Equal(ev.Time) || got.Type != ev.Type || got.Code != ev.Code || got.Value != ev.Value {
			t.Fatalf("size %d: %+v, %v; want %+v", size, got, err, ev)
		}
	}
	if _, err := ParseEvent(make([]byte, 20), 20); err == nil {
		t.Fatal("size 20 accepted")
	}
	if _, err := ParseEvent(make([]byte, 10), 16); err == nil {
		t.Fatal("short buffer accepted")
	}
}

// codeOf is the code a kernel keypad sends for a clock key.
func codeOf(k hal.Key) uint16 {
	if d, ok := k.Digit(); ok {
		return keyNumeric0 + uint16(d-'0')
	}
	return map[hal.Key]uint16{
		hal.KeyStar: keyNumStar, hal.KeyHash: keyNumPound, hal.KeyEnter: keyKPEnter, hal.KeyClear: keyBackspace,
		hal.KeyF1: keyF1, hal.KeyF2: keyF1 + 1, hal.KeyF3: keyF1 + 2, hal.KeyF4: keyF1 + 3, hal.KeyUp: keyUp, hal.KeyDown: keyDown,
	}[k]
}

func newKeypad(t *testing.T, d *device) *Keypad {
	t.Helper()
	k, err := NewKeypad("test-keypad", d.open, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Halt() })
	return k
}

func readKey(t *testing.T, k *Keypad) hal.Key {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), haltest.Deadline)
	defer cancel()
	ev, err := k.ReadKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ev.Key
}

func TestKeypadSuite(t *testing.T) {
	haltest.Keypad(t, func(t *testing.T) haltest.KeypadHarness {
		d := &device{}
		return haltest.KeypadHarness{
			Dev:   newKeypad(t, d),
			Press: func(t testing.TB, k hal.Key) { d.send(t, 100*time.Millisecond, tap(codeOf(k))...) },
			Keys:  hal.Keys(),
		}
	})
}

func TestKeypadIgnoresRepeatsReleasesAndUnknownKeys(t *testing.T) {
	d := &device{}
	k := newKeypad(t, d)
	evs := []Event{
		{Type: evKey, Code: key1, Value: valuePress},
		{Type: evKey, Code: key1, Value: valueRepeat},
		{Type: evKey, Code: key1, Value: valueRepeat},
		{Type: evKey, Code: key1, Value: valueRelease},
		{Type: evKey, Code: 30 /* KEY_A */, Value: valuePress},
		{Type: 0x04 /* EV_MSC */, Code: 4, Value: 0x70004},
	}
	evs = append(evs, tap(keyKP7)...)
	d.send(t, time.Millisecond, evs...)
	if a, b := readKey(t, k), readKey(t, k); a != hal.Key1 || b != hal.Key7 {
		t.Fatalf("read %v %v, want 1 7", a, b)
	}
}

func TestKeypadEventsSplitAcrossReads(t *testing.T) {
	d := &device{}
	k := newKeypad(t, d)
	var b []byte
	for _, ev := range append(tap(keyF1), tap(keyDown)...) {
		ev.Time = time.Unix(1, 0)
		b = AppendEvent(b, ev, EventSize)
	}
	for i := range b {
		d.mu.Lock()
		d.w.Write(b[i : i+1])
		d.mu.Unlock()
	}
	if a, c := readKey(t, k), readKey(t, k); a != hal.KeyF1 || c != hal.KeyDown {
		t.Fatalf("read %v %v, want f1 down", a, c)
	}
}

func TestKeypadSurvivesUnplug(t *testing.T) {
	d := &device{}
	k := newKeypad(t, d)
	d.send(t, time.Millisecond, tap(key0+0)...)
	readKey(t, k)
	d.unplug()
	await.True(t, haltest.Deadline, func() bool { d.mu.Lock(); defer d.mu.Unlock(); return d.opens == 2 }, "device not reopened")
	d.send(t, time.Millisecond, tap(keyEnter)...)
	if got := readKey(t, k); got != hal.KeyEnter {
		t.Fatalf("after replug read %v", got)
	}
}

// typed is what a wedge reader sends for a card number: digits, Enter.
func typed(number string) []Event {
	var evs []Event
	for _, c := range number {
		code := uint16(key0)
		if c != '0' {
			code = key1 + uint16(c-'1')
		}
		evs = append(evs, tap(code)...)
	}
	return append(evs, tap(keyEnter)...)
}

func newWedge(t *testing.T, d *device) *Wedge {
	t.Helper()
	w, err := NewWedge("test-wedge", d.open, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Halt() })
	return w
}

func readBadge(t *testing.T, w *Wedge) (hal.BadgeEvent, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), haltest.Deadline)
	defer cancel()
	return w.ReadBadge(ctx)
}

func TestWedgeSuite(t *testing.T) {
	haltest.BadgeReader(t, func(t *testing.T) haltest.BadgeHarness {
		d := &device{}
		return haltest.BadgeHarness{
			Dev: newWedge(t, d),
			Swipe: func(t testing.TB, i int) hal.BadgeEvent {
				n := "000" + strconv.Itoa(4_200_000+i)
				d.send(t, 8*time.Millisecond, typed(n)...)
				return hal.BadgeEvent{Format: hal.FormatKeyboard, Number: n}
			},
			Bad: func(t testing.TB) {
				evs := append(tap(key1), tap(30 /* KEY_A */)...)
				d.send(t, 8*time.Millisecond, append(evs, tap(keyEnter)...)...)
			},
		}
	})
}

func TestWedgeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		evs  []Event
		want string
	}{
		{"letter", append(tap(key1), append(tap(30), tap(keyEnter)...)...), "not a digit"},
		{"too long", typed(strings.Repeat("1", 21)), "more than 20 digits"},
		{"no enter", append(typed("12")[:8], typed("345")...), "no Enter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &device{}
			w := newWedge(t, d)
			step := 10 * time.Millisecond
			if tc.name == "no enter" {
				// "12", then a second later "345" and Enter.
				d.send(t, step, tc.evs[:8]...)
				d.mu.Lock()
				d.clock = d.clock.Add(time.Second)
				d.mu.Unlock()
				d.send(t, step, tc.evs[8:]...)
			} else {
				d.send(t, step, tc.evs...)
			}
			_, err := readBadge(t, w)
			var we *WedgeError
			if !errors.As(err, &we) || !errors.Is(err, hal.ErrBadFrame) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("read %v, want a bad frame saying %q", err, tc.want)
			}
			if tc.name == "no enter" {
				if ev, err := readBadge(t, w); err != nil || ev.Number != "345" {
					t.Fatalf("the number after the incomplete one: %v, %v", ev, err)
				}
			}
			if w.BadFrames() != 1 {
				t.Fatalf("BadFrames = %d", w.BadFrames())
			}
		})
	}
}

func TestWedgeShiftAndBareEnterIgnored(t *testing.T) {
	d := &device{}
	w := newWedge(t, d)
	evs := append(tap(keyEnter), tap(keyLeftShift)...)
	evs = append(evs, typed("0815")...)
	d.send(t, 5*time.Millisecond, evs...)
	if ev, err := readBadge(t, w); err != nil || ev.Number != "0815" {
		t.Fatalf("read %v, %v", ev, err)
	}
}

func TestOpenRefusesNonInputDevices(t *testing.T) {
	p := filepath.Join(t.TempDir(), "event0")
	os.WriteFile(p, nil, 0o600)
	_, err := Open(p)
	if err == nil || !strings.Contains(err.Error(), "grab") || !strings.Contains(err.Error(), "not an input device") {
		t.Fatalf("Open(regular file) = %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open(missing) = %v", err)
	}
}

func FuzzEvents(f *testing.F) {
	var seed []byte
	for _, ev := range typed("123") {
		seed = AppendEvent(seed, ev, EventSize)
	}
	f.Add(seed, uint8(0))
	f.Add(seed[:EventSize+3], uint8(5))
	f.Add([]byte{}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		for _, size := range []int{16, 24} {
			w := &Wedge{opts: DefaultWedgeOpts, reads: make(chan result, 1<<16), dec: decoder{size: size}}
			k := &Keypad{opts: DefaultKeypadOpts, keys: make(chan hal.KeyEvent, 1<<16), dec: decoder{size: size}}
			c := min(int(cut), len(b))
			for _, part := range [][]byte{b[:c], b[c:]} {
				w.chunk(part)
				k.chunk(part)
			}
			if len(w.dec.pending) >= size || len(k.dec.pending) >= size {
				t.Fatalf("a whole event left undecoded")
			}
			for len(w.reads) > 0 {
				r := <-w.reads
				if r.err == nil {
					for _, c := range r.ev.Number {
						if c < '0' || c > '9' {
							t.Fatalf("badge number %q", r.ev.Number)
						}
					}
					if r.ev.Number == "" || len(r.ev.Number) > 20 {
						t.Fatalf("badge number %q", r.ev.Number)
					}
				} else if !errors.Is(r.err, hal.ErrBadFrame) {
					t.Fatalf("error %v", r.err)
				}
			}
		}
	})
}
