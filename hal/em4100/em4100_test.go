package em4100

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"timeclock/hal"
	"timeclock/hal/haltest"
	"timeclock/internal/await"
	"timeclock/internal/testenv"
)

// wire is a serial line made by socat: two ptys joined, one for the
// driver (reader), one for the test playing the card module (feed).
type wire struct {
	dir          string
	reader, feed string
	cmd          *exec.Cmd
	out          *os.File
}

func newWire(t *testing.T) *wire {
	t.Helper()
	testenv.Tool(t, "socat")
	dir := t.TempDir()
	w := &wire{dir: dir, reader: filepath.Join(dir, "reader"), feed: filepath.Join(dir, "feed")}
	w.plug(t)
	t.Cleanup(func() { w.unplug(t) })
	return w
}

// plug starts socat and waits for both ends to exist.
func (w *wire) plug(t *testing.T) {
	t.Helper()
	w.cmd = exec.Command("socat", "pty,raw,echo=0,link="+w.reader, "pty,raw,echo=0,link="+w.feed)
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	await.True(t, haltest.Deadline, func() bool {
		_, e1 := os.Stat(w.reader)
		_, e2 := os.Stat(w.feed)
		return e1 == nil && e2 == nil
	}, "socat made no ptys")
	f, err := os.OpenFile(w.feed, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.out = f
}

// unplug stops socat, as pulling the USB adapter out: the ptys vanish.
func (w *wire) unplug(t *testing.T) {
	t.Helper()
	if w.cmd == nil {
		return
	}
	w.out.Close()
	w.cmd.Process.Signal(syscall.SIGTERM)
	w.cmd.Wait()
	w.cmd = nil
	await.True(t, haltest.Deadline, func() bool { _, err := os.Lstat(w.reader); return os.IsNotExist(err) }, "socat left its links")
}

func (w *wire) send(t testing.TB, b []byte) {
	t.Helper()
	if _, err := w.out.Write(b); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, w *wire, o *Opts) *Dev {
	t.Helper()
	if o == nil {
		o = &Opts{Repeat: time.Second, Backoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	}
	d, err := New(w.reader, SerialOpener(w.reader, 9600), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Halt() })
	return d
}

func read(t *testing.T, d *Dev) (hal.BadgeEvent, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), haltest.Deadline)
	defer cancel()
	return d.ReadBadge(ctx)
}

func card(i int) ID { return ID{0x1A, 0, byte(i >> 16), byte(i >> 8), byte(i)} }

func TestSuite(t *testing.T) {
	haltest.BadgeReader(t, func(t *testing.T) haltest.BadgeHarness {
		w := newWire(t)
		return haltest.BadgeHarness{
			Dev: open(t, w, nil),
			Swipe: func(t testing.TB, i int) hal.BadgeEvent {
				w.send(t, Encode(card(1000+i)))
				return hal.BadgeEvent{Format: hal.FormatEM4100, Number: fmt.Sprintf("%010d", 1000+i)}
			},
			Bad: func(t testing.TB) { w.send(t, []byte("\x02"+"1A00000001"+"00"+"\x03")) },
		}
	})
}

func TestHeldCardReadsOnce(t *testing.T) {
	w := newWire(t)
	d := open(t, w, &Opts{Repeat: time.Hour})
	for range 5 { // the module repeats the frame while the card is there
		w.send(t, Encode(card(7)))
	}
	w.send(t, Encode(card(8)))
	a, err := read(t, d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := read(t, d)
	if err != nil {
		t.Fatal(err)
	}
	if a.Number != "0000000007" || b.Number != "0000000008" {
		t.Fatalf("read %s then %s, want 7 once then 8", a.Number, b.Number)
	}
}

func TestUnplugAndPlugBackIn(t *testing.T) {
	w := newWire(t)
	d := open(t, w, nil)
	w.send(t, Encode(card(1)))
	if ev, err := read(t, d); err != nil || ev.Number != "0000000001" {
		t.Fatalf("before unplug: %v, %v", ev, err)
	}
	w.unplug(t)
	await.True(t, haltest.Deadline, func() bool { return !d.Connected() }, "the driver did not notice the port vanish")
	w.plug(t)
	await.True(t, haltest.Deadline, d.Connected, "the driver did not reopen the port")
	w.send(t, Encode(card(2)))
	if ev, err := read(t, d); err != nil || ev.Number != "0000000002" {
		t.Fatalf("after plugging back in: %v, %v", ev, err)
	}
}

func TestMissingPortNamed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ttyUSB9")
	_, err := New(p, SerialOpener(p, 9600), nil)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("New on a missing port: %v; want an error naming it", err)
	}
}
