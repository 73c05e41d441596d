package serialport

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pty opens a pseudo-terminal pair: the master end and the slave's path.
func pty(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skip("no /dev/ptmx:", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	return m, "/dev/pts/" + itoa(n)
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestRawBytes: bytes pass both ways unchanged (no CR/LF translation, no
// echo), the line is set up as asked, and Close wakes a pending read.
func TestRawBytes(t *testing.T) {
	m, path := pty(t)
	p, err := Open(path, Mode{Baud: 9600, DataBits: 8, Parity: NoParity, StopBits: 2})
	if err != nil {
		t.Fatal(err)
	}
	tio, err := unix.IoctlGetTermios(int(p.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Cflag&unix.CBAUD != unix.B9600 || tio.Cflag&unix.CSIZE != unix.CS8 || tio.Cflag&unix.PARENB != 0 ||
		tio.Cflag&unix.CSTOPB == 0 || tio.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 || tio.Oflag&unix.OPOST != 0 {
		t.Errorf("termios %+v: not 9600 8N2 raw", tio)
	}
	frame := []byte{0x02, '0', '1', '\r', '\n', 0x03, 0xff}
	if _, err := m.Write(frame); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 0, len(frame))
	buf := make([]byte, 16)
	p.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < len(frame) {
		n, err := p.Read(buf)
		if err != nil {
			t.Fatalf("read after %q: %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, frame) {
		t.Errorf("read %q, want %q", got, frame)
	}
	if _, err := p.Write([]byte("ok\n")); err != nil {
		t.Fatal(err)
	}
	m.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := m.Read(buf)
	if err != nil || string(buf[:n]) != "ok\n" {
		t.Errorf("the other end read %q, %v; want \"ok\\n\" unchanged", buf[:n], err)
	}
	p.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := p.Read(buf); done <- err }()
	time.Sleep(20 * time.Millisecond) // let the read block; Close must wake it whenever it comes
	p.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("read after Close: no error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the read")
	}
}

// TestParity: the framing bits for each parity (a pty keeps no parity,
// so this checks the settings Open applies).
func TestParity(t *testing.T) {
	for _, tc := range []struct {
		p        Parity
		set, clr uint32
	}{
		{NoParity, 0, unix.PARENB | unix.PARODD},
		{EvenParity, unix.PARENB, unix.PARODD},
		{OddParity, unix.PARENB | unix.PARODD, 0},
	} {
		tio, err := Mode{Baud: 115200, DataBits: 7, Parity: tc.p, StopBits: 1}.termios(unix.Termios{Cflag: unix.CRTSCTS | unix.PARODD})
		if err != nil {
			t.Fatal(err)
		}
		if tio.Cflag&tc.set != tc.set || tio.Cflag&tc.clr != 0 || tio.Cflag&unix.CSIZE != unix.CS7 ||
			tio.Cflag&unix.CRTSCTS != 0 || tio.Cflag&unix.CBAUD != unix.B115200 {
			t.Errorf("parity %d: cflag %#x", tc.p, tio.Cflag)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	_, path := pty(t)
	for _, tc := range []struct {
		path string
		mode Mode
		want string
	}{
		{path, Mode{Baud: 12345, DataBits: 8, StopBits: 1}, "speed 12345 not supported"},
		{path, Mode{Baud: 9600, DataBits: 5, StopBits: 1}, "data bits 5"},
		{path, Mode{Baud: 9600, DataBits: 8, StopBits: 3}, "stop bits 3"},
		{"/dev/null", Mode{Baud: 9600, DataBits: 8, StopBits: 1}, "not a serial line"},
		{"/nonexistent/tty", Mode{Baud: 9600, DataBits: 8, StopBits: 1}, "no such file"},
	} {
		p, err := Open(tc.path, tc.mode)
		if err == nil {
			p.Close()
			t.Errorf("Open(%s, %+v): no error", tc.path, tc.mode)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%s, %+v): %v, want %q", tc.path, tc.mode, err, tc.want)
		}
	}
}
