package wiegand

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"timeclock/hal"
	"timeclock/hal/haltest"
)

type rig struct {
	d      *Dev
	d0, d1 *haltest.EdgePin
}

func newRig(t *testing.T, o *Opts) *rig {
	t.Helper()
	r := &rig{d0: haltest.NewEdgePin("GPIO17", 17, gpio.High), d1: haltest.NewEdgePin("GPIO27", 27, gpio.High)}
	if o == nil {
		// Frames end by flush (the rig) unless a test wants the timeout.
		o = &Opts{Timeout: time.Hour}
	}
	d, err := New(r.d0, r.d1, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	r.d = d
	return r
}

// send pulses the lines for each bit, in order: each edge is taken by the
// driver before the next goes out.
func (r *rig) send(t testing.TB, frame []uint8) {
	t.Helper()
	for _, b := range frame {
		if b == 0 {
			r.d0.Edge(t, gpio.Low)
		} else {
			r.d1.Edge(t, gpio.Low)
		}
	}
}

// end ends the frame as the inter-bit timeout would.
func (r *rig) end(t testing.TB) {
	t.Helper()
	select {
	case r.d.flush <- struct{}{}:
	case <-time.After(haltest.Deadline):
		t.Fatal("assembler not listening")
	}
}

func (r *rig) swipe(t testing.TB, bits int, fc uint32, cn uint64) {
	t.Helper()
	f, err := Encode(bits, fc, cn)
	if err != nil {
		t.Fatal(err)
	}
	r.send(t, f)
	r.end(t)
}

func read(t *testing.T, d *Dev) (hal.BadgeEvent, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), haltest.Deadline)
	defer cancel()
	return d.ReadBadge(ctx)
}

func TestSuite(t *testing.T) {
	haltest.BadgeReader(t, func(t *testing.T) haltest.BadgeHarness {
		r := newRig(t, nil)
		return haltest.BadgeHarness{
			Dev: r.d,
			Swipe: func(t testing.TB, i int) hal.BadgeEvent {
				r.swipe(t, 26, uint32(10+i), uint64(1000+i))
				return hal.BadgeEvent{Format: hal.FormatWiegand26, Facility: uint32(10 + i), Number: strconv.Itoa(1000 + i)}
			},
			Bad: func(t testing.TB) {
				f, _ := Encode(26, 1, 2)
				f[5] ^= 1
				r.send(t, f)
				r.end(t)
			},
		}
	})
}

func TestFormatsOverGPIO(t *testing.T) {
	r := newRig(t, nil)
	for _, tc := range []struct {
		bits   int
		fc     uint32
		cn     uint64
		format hal.BadgeFormat
		number string
	}{
		{26, 200, 12345, hal.FormatWiegand26, "12345"},
		{34, 4321, 65000, hal.FormatWiegand34, "65000"},
		{37, 60000, 500000, hal.FormatWiegand37, "500000"},
	} {
		r.swipe(t, tc.bits, tc.fc, tc.cn)
		ev, err := read(t, r.d)
		key := strconv.FormatUint(uint64(tc.fc), 10) + ":" + tc.number
		if err != nil || ev.Format != tc.format || ev.Facility != tc.fc || ev.Number != tc.number || ev.Key() != key || ev.Bits != tc.bits {
			t.Fatalf("%d-bit frame read as %+v, %v", tc.bits, ev, err)
		}
	}
}

func TestTimeoutEndsFrames(t *testing.T) {
	// The real inter-bit timeout, long enough that a loaded machine never
	// splits a frame, ends each of two frames sent back to back.
	r := newRig(t, &Opts{Timeout: 400 * time.Millisecond})
	for _, cn := range []uint64{111, 222} {
		f, _ := Encode(26, 9, cn)
		r.send(t, f)
		ev, err := read(t, r.d)
		if err != nil || ev.Number != strconv.FormatUint(cn, 10) || ev.Facility != 9 {
			t.Fatalf("frame %d read as %+v, %v", cn, ev, err)
		}
	}
}

func TestBadFramesCountedNotBadges(t *testing.T) {
	r := newRig(t, nil)
	good, _ := Encode(26, 3, 33)
	for _, bad := range [][]uint8{good[:1], good[:25], append(append([]uint8{}, good...), 0), make([]uint8, 70)} {
		r.send(t, bad)
		r.end(t)
		_, err := read(t, r.d)
		var fe *FrameError
		if !errors.As(err, &fe) || !errors.Is(err, hal.ErrBadFrame) {
			t.Fatalf("frame of %d bits: read %v, want a bad frame error", len(bad), err)
		}
	}
	if n := r.d.BadFrames(); n != 4 {
		t.Fatalf("BadFrames = %d, want 4", n)
	}
	r.send(t, good)
	r.end(t)
	if ev, err := read(t, r.d); err != nil || ev.Number != "33" {
		t.Fatalf("good frame after bad ones: %+v, %v", ev, err)
	}
}

func TestHaltSwitchesEdgesOff(t *testing.T) {
	r := newRig(t, nil)
	if err := r.d.Halt(); err != nil {
		t.Fatal(err)
	}
	if r.d0.Pull() != gpio.PullUp || r.d1.Pull() != gpio.PullUp {
		t.Fatal("data lines lost their pull-ups")
	}
}
