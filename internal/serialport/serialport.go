// Package serialport opens a serial line (a UART, a USB serial adapter, a
// pty) raw, at a speed and framing, for the EM4100 reader and the
// technician's console. It replaces go.bug.st/serial, whose port
// enumeration (unused here) compiled a regexp at start-up and linked the
// regexp package: ~70 ms of every start under qemu-arm and ~150 KiB of the
// binary.
//
// The port is an *os.File in non-blocking mode, so reads and writes go
// through Go's poller: a read waits for data without a timeout loop, Close
// wakes it, and write deadlines work.
package serialport

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Parity is the line's parity bit.
type Parity int

// The parities.
const (
	NoParity Parity = iota
	EvenParity
	OddParity
)

// Mode is the line's speed and framing.
type Mode struct {
	Baud     int
	DataBits int // 7 or 8
	Parity   Parity
	StopBits int // 1 or 2
}

// Port is an open serial line.
type Port struct {
	*os.File
}

// rates are the speeds the kernel's termios names.
var rates = map[int]uint32{
	50: unix.B50, 75: unix.B75, 110: unix.B110, 134: unix.B134, 150: unix.B150, 200: unix.B200,
	300: unix.B300, 600: unix.B600, 1200: unix.B1200, 1800: unix.B1800, 2400: unix.B2400,
	4800: unix.B4800, 9600: unix.B9600, 19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600,
	115200: unix.B115200, 230400: unix.B230400, 460800: unix.B460800, 500000: unix.B500000,
	576000: unix.B576000, 921600: unix.B921600, 1000000: unix.B1000000, 1152000: unix.B1152000,
	1500000: unix.B1500000, 2000000: unix.B2000000, 2500000: unix.B2500000, 3000000: unix.B3000000,
	3500000: unix.B3500000, 4000000: unix.B4000000,
}

// termios returns the raw-mode settings for m applied to t.
func (m Mode) termios(t unix.Termios) (unix.Termios, error) {
	rate, ok := rates[m.Baud]
	if !ok {
		return t, fmt.Errorf("serial speed %d not supported (use a standard one: 9600, 115200...)", m.Baud)
	}
	// cfmakeraw: no input or output processing, no echo, no signals.
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF | unix.IXANY | unix.INPCK
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.PARODD | unix.CSTOPB | unix.CRTSCTS | unix.CBAUD
	t.Cflag |= unix.CREAD | unix.CLOCAL | rate
	switch m.DataBits {
	case 7:
		t.Cflag |= unix.CS7
	case 8:
		t.Cflag |= unix.CS8
	default:
		return t, fmt.Errorf("serial data bits %d; want 7 or 8", m.DataBits)
	}
	switch m.Parity {
	case NoParity:
	case EvenParity:
		t.Cflag |= unix.PARENB
		t.Iflag |= unix.INPCK
	case OddParity:
		t.Cflag |= unix.PARENB | unix.PARODD
		t.Iflag |= unix.INPCK
	default:
		return t, fmt.Errorf("serial parity %d unknown", m.Parity)
	}
	switch m.StopBits {
	case 1:
	case 2:
		t.Cflag |= unix.CSTOPB
	default:
		return t, fmt.Errorf("serial stop bits %d; want 1 or 2", m.StopBits)
	}
	t.Ispeed, t.Ospeed = rate, rate
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return t, nil
}

// Open opens path raw at m, with exclusive access (TIOCEXCL: a second
// opener gets EBUSY) and without becoming its controlling terminal. No
// modem-line ioctls: they fail on ptys and some USB adapters.
func Open(path string, m Mode) (*Port, error) {
	if _, err := m.termios(unix.Termios{}); err != nil {
		return nil, err
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	fail := func(op string, err error) (*Port, error) {
		unix.Close(fd)
		return nil, &os.PathError{Op: op, Path: path, Err: err}
	}
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fail("not a serial line: get termios", err)
	}
	raw, err := m.termios(*t)
	if err != nil {
		return fail("mode", err)
	}
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return fail("set termios", err)
	}
	if err := unix.IoctlSetInt(fd, unix.TIOCEXCL, 0); err != nil && !errors.Is(err, unix.ENOTTY) {
		return fail("exclusive access", err)
	}
	return &Port{File: os.NewFile(uintptr(fd), path)}, nil
}
