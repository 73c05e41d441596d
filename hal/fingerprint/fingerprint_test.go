package fingerprint_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/hal"
	fp "timeclock/hal/fingerprint"
	"timeclock/hal/fingerprint/fpsim"
	"timeclock/hal/haltest"
	"timeclock/internal/await"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exchange is one recorded command and the module's reply.
type exchange struct{ send, reply string }

// scripted is a port that expects the recorded commands in order and
// answers each with its recorded reply; anything else fails the test.
type scripted struct {
	t      *testing.T
	mu     sync.Mutex
	steps  []exchange
	out    chan []byte
	closed chan struct{}
	once   sync.Once
}

func newScripted(t *testing.T, steps ...exchange) *scripted {
	return &scripted{t: t, steps: steps, out: make(chan []byte, len(steps)), closed: make(chan struct{})}
}

func (s *scripted) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.steps) == 0 {
		s.t.Errorf("unexpected command % X", b)
		return len(b), nil
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	if want := unhex(s.t, st.send); !bytes.Equal(b, want) {
		s.t.Errorf("sent % X\nwant % X", b, want)
	}
	s.out <- unhex(s.t, st.reply)
	return len(b), nil
}

func (s *scripted) Read(b []byte) (int, error) {
	select {
	case r := <-s.out:
		return copy(b, r), nil
	case <-s.closed:
		return 0, io.EOF
	}
}

func (s *scripted) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

func (s *scripted) left() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.steps)
}

// The handshake every open makes: the password, then the system
// parameters (a library of 1000 = 0x03E8).
var handshake = []exchange{
	{"EF01 FFFFFFFF 01 0007 13 00000000 001B", "EF01 FFFFFFFF 07 0003 00 000A"},
	{"EF01 FFFFFFFF 01 0003 0F 0013", "EF01 FFFFFFFF 07 0013 00 0000 0000 03E8 0003 FFFFFFFF 0002 0006 " + sumHex(0x07, 0x13, []byte{0, 0, 0, 0, 0, 0x03, 0xE8, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0, 2, 0, 6})},
}

func sumHex(pid byte, n int, payload []byte) string {
	s := uint16(pid) + uint16(n>>8) + uint16(n&0xff)
	for _, b := range payload {
		s += uint16(b)
	}
	return hex.EncodeToString([]byte{byte(s >> 8), byte(s)})
}

func openScripted(t *testing.T, s *scripted) *fp.Dev {
	t.Helper()
	o := fp.DefaultOpts
	o.Poll = time.Millisecond
	d, err := fp.New("script", func() (io.ReadWriteCloser, error) { return s, nil }, &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	return d
}

// TestReadFingerGolden is a recorded identification: no finger, a finger,
// its features, a search that finds slot 5 with confidence 100.
func TestReadFingerGolden(t *testing.T) {
	s := newScripted(t, append(append([]exchange{}, handshake...),
		exchange{"EF01 FFFFFFFF 01 0003 01 0005", "EF01 FFFFFFFF 07 0003 02 000C"}, // GenImg: no finger
		exchange{"EF01 FFFFFFFF 01 0003 01 0005", "EF01 FFFFFFFF 07 0003 00 000A"}, // GenImg: OK
		exchange{"EF01 FFFFFFFF 01 0004 0201 0008", "EF01 FFFFFFFF 07 0003 00 000A"},
		exchange{"EF01 FFFFFFFF 01 0008 04 01 0000 03E8 00F9", "EF01 FFFFFFFF 07 0007 00 0005 0064 0077"},
	)...)
	d := openScripted(t, s)
	ev, err := d.ReadFinger(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Matched || ev.Slot != 5 || ev.Score != 100 {
		t.Errorf("event %+v, want slot 5 score 100", ev)
	}
	if n := s.left(); n != 0 {
		t.Errorf("%d recorded exchanges not made", n)
	}
}

// TestEnrollGolden is a recorded enrollment of slot 7: scan 1 and a search
// (not enrolled yet), scan 2 and the template, scan 3 and the match,
// store.
func TestEnrollGolden(t *testing.T) {
	ok := "EF01 FFFFFFFF 07 0003 00 000A"
	genImg := "EF01 FFFFFFFF 01 0003 01 0005"
	s := newScripted(t, append(append([]exchange{}, handshake...),
		exchange{genImg, ok},
		exchange{"EF01 FFFFFFFF 01 0004 0201 0008", ok},
		exchange{"EF01 FFFFFFFF 01 0008 04 01 0000 03E8 00F9", "EF01 FFFFFFFF 07 0007 09 0000 0000 0017"}, // not found
		exchange{genImg, "EF01 FFFFFFFF 07 0003 02 000C"},                                                 // lifted
		exchange{genImg, ok},
		exchange{"EF01 FFFFFFFF 01 0004 0202 0009", ok},
		exchange{"EF01 FFFFFFFF 01 0003 05 0009", ok}, // RegModel
		exchange{genImg, ok},
		exchange{"EF01 FFFFFFFF 01 0004 0202 0009", ok},
		exchange{"EF01 FFFFFFFF 01 0003 03 0007", "EF01 FFFFFFFF 07 0005 00 00C8 00D4"}, // Match: score 200
		exchange{"EF01 FFFFFFFF 01 0006 06 01 0007 0015", ok},                           // Store slot 7
	)...)
	d := openScripted(t, s)
	ctx := context.Background()
	e := d.StartEnroll()
	defer e.Done()
	ev, err := e.Scan(ctx, 1)
	if err != nil || ev.Matched {
		t.Fatalf("scan 1: %+v %v", ev, err)
	}
	if err := e.Lifted(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Scan(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if ev, err := e.Scan(ctx, 3); err != nil || ev.Score != 200 {
		t.Fatalf("scan 3: %+v %v", ev, err)
	}
	if err := e.Store(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if n := s.left(); n != 0 {
		t.Errorf("%d recorded exchanges not made", n)
	}
}

// rig is the driver on the simulated module on a pty.
type rig struct {
	s   *fpsim.Sensor
	pty *fpsim.PTY
	d   *fp.Dev
}

func newRig(t *testing.T, timeout time.Duration) *rig {
	t.Helper()
	s := fpsim.New()
	pty, err := fpsim.NewPTY(s, filepath.Join(t.TempDir(), "ttyFP"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pty.Close() })
	o := fp.DefaultOpts
	o.Timeout, o.Poll = timeout, 2*time.Millisecond
	d, err := fp.New(pty.Link(), fp.SerialOpener(pty.Link(), fp.DefaultBaud), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	return &rig{s: s, pty: pty, d: d}
}

func (r *rig) enroll(t *testing.T, finger string, slot int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), haltest.Deadline)
	defer cancel()
	e := r.d.StartEnroll()
	defer e.Done()
	for n := 1; n <= 3; n++ {
		r.s.Place(finger)
		if _, err := e.Scan(ctx, n); err != nil {
			t.Fatalf("scan %d: %v", n, err)
		}
		if err := e.Lifted(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Store(ctx, slot); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) read(t *testing.T, finger string) (hal.FingerEvent, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), haltest.Deadline)
	defer cancel()
	r.s.Place(finger)
	return r.d.ReadFinger(ctx)
}

func TestSimEnrollAndIdentify(t *testing.T) {
	r := newRig(t, time.Second)
	r.enroll(t, "E100", 3)
	if got := r.s.Enrolled("E100"); len(got) != 1 || got[0] != 3 {
		t.Fatalf("sensor has E100 in %v, want [3]", got)
	}
	ev, err := r.read(t, "E100")
	if err != nil || !ev.Matched || ev.Slot != 3 || ev.Score != fpsim.DefaultScore {
		t.Fatalf("E100: %+v %v", ev, err)
	}
	ev, err = r.read(t, "stranger")
	if err != nil || ev.Matched {
		t.Fatalf("an unknown finger: %+v %v, want no match", ev, err)
	}
	if n, err := r.d.FingerCount(context.Background()); err != nil || n != 1 {
		t.Fatalf("count %d %v", n, err)
	}
	if err := r.d.DeleteFinger(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	ev, err = r.read(t, "E100")
	if err != nil || ev.Matched {
		t.Fatalf("E100 after delete: %+v %v, want no match", ev, err)
	}
	r.enroll(t, "E200", 5)
	r.enroll(t, "E300", 6)
	if err := r.d.DeleteAllFingers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, err := r.d.FingerCount(context.Background()); err != nil || n != 0 || r.s.Templates() != 0 {
		t.Fatalf("after emptying: count %d %v, module %d", n, err, r.s.Templates())
	}
}

func TestSimEnrollRefusals(t *testing.T) {
	r := newRig(t, time.Second)
	r.enroll(t, "E100", 0)
	ctx, cancel := context.WithTimeout(context.Background(), haltest.Deadline)
	defer cancel()
	e := r.d.StartEnroll()
	defer e.Done()
	r.s.Place("E100")
	ev, err := e.Scan(ctx, 1)
	if err != nil || !ev.Matched || ev.Slot != 0 {
		t.Fatalf("scan 1 of an enrolled finger: %+v %v, want found in slot 0", ev, err)
	}
	r.s.Place("E200")
	if _, err := e.Scan(ctx, 1); err != nil {
		t.Fatal(err)
	}
	r.s.Place("E300")
	if _, err := e.Scan(ctx, 2); !errors.Is(err, hal.ErrNotSameFinger) {
		t.Fatalf("scan 2 of another finger: %v, want ErrNotSameFinger", err)
	}
	r.s.Place("E200")
	if _, err := e.Scan(ctx, 2); err != nil {
		t.Fatal(err)
	}
	r.s.Place("E300")
	if _, err := e.Scan(ctx, 3); !errors.Is(err, hal.ErrNotSameFinger) {
		t.Fatalf("scan 3 of another finger: %v, want ErrNotSameFinger", err)
	}
}

// TestSimFaults: a bad checksum, a slow reply, a mute module: each is an
// ErrSensor, never a match, and the next read works again.
func TestSimFaults(t *testing.T) {
	r := newRig(t, 200*time.Millisecond)
	r.enroll(t, "E100", 1)
	for _, tt := range []struct {
		name  string
		fault func()
	}{
		{"bad checksum", func() { r.s.CorruptNext(1) }},
		{"every reply garbled", func() { r.s.CorruptNext(1000) }},
		{"slow replies", func() { r.s.Faults(false, false, 400*time.Millisecond, false) }},
		{"mute", func() { r.s.Faults(false, false, 0, true) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.fault()
			ev, err := r.read(t, "E100")
			if !errors.Is(err, hal.ErrSensor) || ev.Matched {
				t.Fatalf("read with %s: %+v %v, want ErrSensor", tt.name, ev, err)
			}
			if r.d.Connected() || r.d.SensorState() != "not answering" && r.d.SensorState() != "unplugged" {
				t.Errorf("after a failed reply: connected %v, state %q", r.d.Connected(), r.d.SensorState())
			}
			r.s.CorruptNext(0)
			r.s.Faults(false, false, 0, false)
			r.s.Lift()
			ev, err = r.read(t, "E100")
			if err != nil || !ev.Matched || ev.Slot != 1 {
				t.Fatalf("read after %s: %+v %v, want slot 1", tt.name, ev, err)
			}
		})
	}
	t.Run("no finger seen", func(t *testing.T) {
		r.s.Faults(true, false, 0, false)
		defer r.s.Faults(false, false, 0, false)
		ctx, cancel := context.WithCancel(context.Background())
		r.s.Place("E100")
		res := make(chan error, 1)
		go func() { _, err := r.d.ReadFinger(ctx); res <- err }()
		for range 3 { // three images taken, none saw the finger
			<-r.s.Changed()
		}
		cancel()
		if err := <-res; !errors.Is(err, context.Canceled) {
			t.Fatalf("ReadFinger %v, want it still waiting until cancelled", err)
		}
	})
	t.Run("no match", func(t *testing.T) {
		r.s.Faults(false, true, 0, false)
		defer r.s.Faults(false, false, 0, false)
		ev, err := r.read(t, "E100")
		if err != nil || ev.Matched {
			t.Fatalf("%+v %v, want no match", ev, err)
		}
	})
}

func TestSimUnplugReplug(t *testing.T) {
	r := newRig(t, 200*time.Millisecond)
	r.enroll(t, "E100", 2)
	r.pty.Unplug()
	if _, err := r.read(t, "E100"); !errors.Is(err, hal.ErrSensor) {
		t.Fatalf("read while unplugged: %v, want ErrSensor", err)
	}
	if err := r.pty.Plug(); err != nil {
		t.Fatal(err)
	}
	ev := await.Value(t, haltest.Deadline, func() (hal.FingerEvent, bool) {
		ev, err := r.read(t, "E100")
		return ev, err == nil
	}, "no read after the module was plugged back")
	if !ev.Matched || ev.Slot != 2 {
		t.Fatalf("after replug: %+v, want slot 2", ev)
	}
}

func TestWrongPassword(t *testing.T) {
	s := fpsim.New()
	s.SetPassword(1234)
	pty, err := fpsim.NewPTY(s, filepath.Join(t.TempDir(), "ttyFP"))
	if err != nil {
		t.Fatal(err)
	}
	defer pty.Close()
	_, err = fp.New(pty.Link(), fp.SerialOpener(pty.Link(), fp.DefaultBaud), nil)
	if !errors.Is(err, hal.ErrSensor) || !strings.Contains(err.Error(), "password") {
		t.Fatalf("New with the wrong password: %v", err)
	}
	o := fp.DefaultOpts
	o.Password = 1234
	d, err := fp.New(pty.Link(), fp.SerialOpener(pty.Link(), fp.DefaultBaud), &o)
	if err != nil {
		t.Fatal(err)
	}
	d.Halt()
}

func TestHaltUnblocksRead(t *testing.T) {
	r := newRig(t, time.Second)
	res := make(chan error, 1)
	go func() { _, err := r.d.ReadFinger(context.Background()); res <- err }()
	<-r.s.Changed()
	r.d.Halt()
	select {
	case err := <-res:
		if !errors.Is(err, hal.ErrHalted) {
			t.Fatalf("ReadFinger after Halt: %v", err)
		}
	case <-time.After(haltest.Deadline):
		t.Fatal("ReadFinger still blocked after Halt")
	}
}

// A module that never answers fails New within ProbeTimeout per reply, not
// Timeout: an optional module that is absent must not hold up the start.
func TestProbeTimeoutBoundsNew(t *testing.T) {
	s := fpsim.New()
	s.Faults(false, false, 0, true) // mute
	pty, err := fpsim.NewPTY(s, filepath.Join(t.TempDir(), "ttyFP"))
	if err != nil {
		t.Fatal(err)
	}
	defer pty.Close()
	o := fp.DefaultOpts
	o.Timeout = time.Hour
	o.ProbeTimeout = 20 * time.Millisecond
	res := make(chan error, 1)
	go func() {
		d, err := fp.New(pty.Link(), fp.SerialOpener(pty.Link(), fp.DefaultBaud), &o)
		if d != nil {
			d.Halt()
		}
		res <- err
	}()
	select {
	case err := <-res:
		if !errors.Is(err, hal.ErrSensor) {
			t.Fatalf("New on a mute module: %v, want ErrSensor", err)
		}
	case <-time.After(haltest.Deadline):
		t.Fatalf("New on a mute module still waiting after %v with ProbeTimeout 20ms (Timeout 1h)", haltest.Deadline)
	}
	// Once it answered, replies get Timeout again: a reply slower than
	// ProbeTimeout (a search of a full library) but within Timeout is fine.
	s.Faults(false, false, 0, false)
	o.ProbeTimeout = time.Second
	d, err := fp.New(pty.Link(), fp.SerialOpener(pty.Link(), fp.DefaultBaud), &o)
	if err != nil {
		t.Fatalf("New on an answering module: %v", err)
	}
	defer d.Halt()
	s.Faults(false, false, 1500*time.Millisecond, false)
	if _, err := d.FingerCount(context.Background()); err != nil {
		t.Fatalf("a 1.5 s reply after the probe (ProbeTimeout 1s, Timeout 1h): %v", err)
	}
}
