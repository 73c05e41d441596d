package matrix

import (
	"context"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"timeclock/hal"
	"timeclock/hal/haltest"
	"timeclock/hal/matrix/matrixtest"
)

// devkit is the dev kit's 5x4 layout (board/models.json).
var devkit = []hal.Key{
	hal.KeyF1, hal.KeyF2, hal.KeyF3, hal.KeyF4,
	hal.Key1, hal.Key2, hal.Key3, hal.KeyUp,
	hal.Key4, hal.Key5, hal.Key6, hal.KeyDown,
	hal.Key7, hal.Key8, hal.Key9, hal.KeyClear,
	hal.KeyStar, hal.Key0, hal.KeyHash, hal.KeyEnter,
}

// testOpts scans fast: tests wait on conditions, never on these times.
func testOpts() *Opts {
	return &Opts{Layout: devkit, ScanPeriod: time.Millisecond, Debounce: 3, Queue: 32}
}

func open(t *testing.T, kp *matrixtest.Keypad, o *Opts) *Dev {
	t.Helper()
	d, err := New(kp.RowPins(), kp.ColPins(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	return d
}

func where(k hal.Key) (int, int) {
	for i, l := range devkit {
		if l == k {
			return i / 4, i % 4
		}
	}
	panic("no key " + k.String())
}

func read(t *testing.T, d *Dev) hal.Key {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), haltest.Deadline)
	defer cancel()
	ev, err := d.ReadKey(ctx)
	if err != nil {
		t.Fatalf("ReadKey: %v", err)
	}
	return ev.Key
}

func TestSuite(t *testing.T) {
	haltest.Keypad(t, func(t *testing.T) haltest.KeypadHarness {
		kp := matrixtest.New(5, 4)
		return haltest.KeypadHarness{
			Dev: open(t, kp, testOpts()),
			Press: func(t testing.TB, k hal.Key) {
				r, c := where(k)
				kp.Press(t, r, c)
			},
			Keys: devkit,
		}
	})
}

func TestBouncyKeysReadOnce(t *testing.T) {
	kp := matrixtest.New(5, 4)
	kp.Bounce = 5
	d := open(t, kp, testOpts())
	want := []hal.Key{hal.Key1, hal.Key1, hal.Key2, hal.KeyEnter}
	for _, k := range want {
		r, c := where(k)
		kp.Press(t, r, c)
	}
	for i, k := range want {
		if got := read(t, d); got != k {
			t.Fatalf("read #%d = %v, want %v: bounce leaked through", i, got, k)
		}
	}
}

func TestGhostKeysRejected(t *testing.T) {
	kp := matrixtest.New(5, 4)
	d := open(t, kp, testOpts())
	// 1, 2 and 4 on three corners: 5 reads as pressed too.
	kp.HoldDown(t, [2]int{1, 0}, [2]int{1, 1}, [2]int{2, 0})
	kp.WaitScans(t, 2*testOpts().Debounce)
	kp.Release()
	r, c := where(hal.Key9)
	kp.Press(t, r, c)
	if got := read(t, d); got != hal.Key9 {
		t.Fatalf("first key read = %v, want 9: the ambiguous scan produced keys", got)
	}
}

func TestTwoKeysWithoutGhost(t *testing.T) {
	kp := matrixtest.New(5, 4)
	d := open(t, kp, testOpts())
	kp.HoldDown(t, [2]int{1, 0}, [2]int{2, 1}) // 1 and 5: no rectangle
	if a, b := read(t, d), read(t, d); a != hal.Key1 || b != hal.Key5 {
		t.Fatalf("read %v %v, want 1 5", a, b)
	}
	kp.Release()
}

func TestIdleKeypadDoesNotScan(t *testing.T) {
	kp := matrixtest.New(5, 4)
	d := open(t, kp, testOpts())
	for _, c := range kp.Cols {
		c.WaitBlocked(t)
	}
	if n := kp.Reads(); n != 0 {
		t.Fatalf("%d column reads before any key was pressed", n)
	}
	for _, p := range kp.Rows {
		if p.Read() != gpio.Low {
			t.Fatalf("row %s is not driven low at rest", p)
		}
	}
	r, c := where(hal.Key0)
	kp.Press(t, r, c)
	if got := read(t, d); got != hal.Key0 {
		t.Fatalf("read %v, want 0", got)
	}
}

func TestHaltReleasesPins(t *testing.T) {
	kp := matrixtest.New(5, 4)
	d := open(t, kp, testOpts())
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	for _, p := range kp.Rows {
		if p.Read() != gpio.High || p.Pull() != gpio.PullUp {
			t.Errorf("row %s after Halt: level %v pull %v, want released with pull-up", p, p.Read(), p.Pull())
		}
	}
}

func TestNewRejects(t *testing.T) {
	kp := matrixtest.New(5, 4)
	for _, tc := range []struct {
		name string
		rows int
		o    Opts
	}{
		{"layout size", 5, Opts{Layout: devkit[:19], ScanPeriod: time.Millisecond, Debounce: 1}},
		{"no rows", 0, Opts{Layout: nil, ScanPeriod: time.Millisecond, Debounce: 1}},
		{"no debounce", 5, Opts{Layout: devkit, ScanPeriod: time.Millisecond}},
	} {
		if _, err := New(kp.RowPins()[:tc.rows], kp.ColPins(), &tc.o); err == nil {
			t.Errorf("%s: New accepted", tc.name)
		}
	}
}
