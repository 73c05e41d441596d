package fpsim

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// PTY is the simulated module on a pseudo-terminal, as a USB adapter would
// put it on /dev/ttyUSB0: the driver opens Link as a serial port. Unplug
// takes the terminal away (the driver's reads fail); Plug makes a new one
// behind the same Link.
type PTY struct {
	s    *Sensor
	link string
	own  bool // link is the terminal's own path, not a symlink

	mu     sync.Mutex
	master *os.File // guarded by mu; nil while unplugged
	slave  *os.File // held open so the master never reads EIO between the driver's opens
	wg     sync.WaitGroup
}

// NewPTY plugs s in behind link (a path; its directory must exist). With
// link "", Link is the terminal's own /dev/pts path and Plug after Unplug
// makes a terminal with another one.
func NewPTY(s *Sensor, link string) (*PTY, error) {
	p := &PTY{s: s, link: link}
	if err := p.Plug(); err != nil {
		return nil, err
	}
	return p, nil
}

// Link is the path the driver opens.
func (p *PTY) Link() string { return p.link }

// Plug makes a new terminal behind Link and serves the sensor on it.
func (p *PTY) Plug() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.master != nil {
		return nil
	}
	master, slavePath, err := openPTY()
	if err != nil {
		return err
	}
	slave, err := os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return fmt.Errorf("fpsim: open %s: %w", slavePath, err)
	}
	if err := makeRaw(int(slave.Fd())); err != nil {
		master.Close()
		slave.Close()
		return err
	}
	if p.link == "" || p.own {
		p.link, p.own = slavePath, true
	} else if err := relink(slavePath, p.link); err != nil {
		master.Close()
		slave.Close()
		return err
	}
	p.master, p.slave = master, slave
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.s.Serve(master) // ends when Unplug closes the master
	}()
	return nil
}

// Unplug takes the terminal away: the driver's port fails and Link points
// nowhere until Plug.
func (p *PTY) Unplug() {
	p.mu.Lock()
	m, s := p.master, p.slave
	p.master, p.slave = nil, nil
	p.mu.Unlock()
	if m == nil {
		return
	}
	if !p.own {
		os.Remove(p.link)
	}
	s.Close()
	m.Close()
	p.wg.Wait()
}

// Close unplugs for good.
func (p *PTY) Close() error {
	p.Unplug()
	return nil
}

// relink points link at target, atomically.
func relink(target, link string) error {
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("fpsim: link: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("fpsim: link: %w", err)
	}
	return nil
}

// openPTY opens a new pseudo-terminal pair's master and names its slave.
func openPTY() (*os.File, string, error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", fmt.Errorf("fpsim: open /dev/ptmx: %w", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		return nil, "", fmt.Errorf("fpsim: unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		return nil, "", fmt.Errorf("fpsim: pty number: %w", err)
	}
	// Non-blocking, so the file is on Go's poller and Close ends a Read.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, "", fmt.Errorf("fpsim: pty: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), filepath.Join("/dev/pts", strconv.Itoa(n)), nil
}

// makeRaw puts the terminal in raw mode: no echo, no line editing, no
// translation of bytes.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("fpsim: termios: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("fpsim: raw mode: %w", err)
	}
	return nil
}
