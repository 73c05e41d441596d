// Package vmtest boots the booted-Linux test tier's Debian image under
// qemu-system-x86_64 (TCG) and drives it: shell scripts through the
// guest's command socket, the sim board's control socket forwarded out,
// the serial console as lines to wait on, and power cuts (qemu killed).
//
// The image comes from scripts/vm-image.sh, named by $TIMECLOCK_VM_IMAGE
// (make test-vm sets it). Its network is QEMU user networking with
// restrict=on: the guest reaches nothing, and only the forwards below, all
// bound to the host's loopback, reach the guest.
package vmtest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"timeclock/internal/daemontest"
	"timeclock/internal/testenv"
)

// Ports inside the guest (the image's socket units).
const (
	guestCmdPort = 5555 // one shell script per connection
	guestSimPort = 5556 // the sim board's control socket
)

// BootTimeout bounds a boot to the image's ready line. A boot takes about
// 20 s under TCG on an idle machine; two test runs at once on two cores
// make it several times that.
const BootTimeout = 4 * time.Minute

// Image is a built image directory: rootfs.img, vmlinuz, initrd.img.
type Image struct{ Dir string }

// FromEnv returns the image named by $TIMECLOCK_VM_IMAGE. Without it the
// test is skipped: make test-vm builds the image and sets it.
func FromEnv(t testing.TB) Image {
	t.Helper()
	dir := os.Getenv("TIMECLOCK_VM_IMAGE")
	if dir == "" {
		t.Skip("booted-VM tier: make test-vm builds the image and runs it (TIMECLOCK_VM_IMAGE)")
	}
	for _, f := range []string{"rootfs.img", "vmlinuz", "initrd.img"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("TIMECLOCK_VM_IMAGE=%s: %v (scripts/vm-image.sh builds it)", dir, err)
		}
	}
	testenv.Tool(t, "qemu-system-x86_64")
	return Image{Dir: dir}
}

// Opts configure a machine.
type Opts struct {
	// Persistent keeps the root filesystem's changes across the machine's
	// boots (a qcow2 overlay on the cached image); otherwise every boot
	// starts from the image (qemu -snapshot). The cache is never written.
	Persistent bool
	// StateMiB is the size of the state disk (/var/lib/timeclock); 0: 128.
	StateMiB int
	// SMP is the number of virtual CPUs; 0: 1. With two, the 7.3 kernel
	// now and then oopsed early in boot under multi-threaded TCG (an int3
	// in sched_clock_cpu as a static key was patched while the other vCPU
	// ran the site; seen in 2 of about 30 boots in CI simulations): one
	// vCPU has no other CPU to race its code patching.
	SMP int
	// RTCBase is qemu's -rtc base= ("" is utc): "1970-01-01" boots a
	// machine whose clock nobody set, as a board without an RTC battery.
	// The kernel never writes the RTC back (no NTP daemon synced it), so
	// every boot of the machine, a reboot too, starts there again.
	RTCBase string
	// GuestFwd are the guest addresses forwarded to host loopback ports
	// (qemu's guestfwd, one socat per connection): with restrict=on the
	// only places the guest can reach.
	GuestFwd []Fwd
	// Console2 puts the guest's second serial port (ttyS1) on a host
	// pseudo-terminal, which Machine.Console2 names, as a technician's
	// USB-serial adapter on the clock's console port.
	Console2 bool
	// Disks are extra disks, attached after the state disk with
	// cache=none: raw and empty.
	Disks []Disk
}

// Disk is an extra disk; the guest finds it as DevPath.
type Disk struct {
	Name string // its serial number: letters and digits, at most 20
	MiB  int
	// Scratch: the host caches the disk's writes (cache=writeback)
	// instead of writing through with O_DIRECT (cache=none, the default,
	// as a power cut needs). For disks whose contents a power cut does not
	// test, such as dm-log-writes's log: its 512-byte-aligned writes (a
	// one-sector header before each block) went through O_DIRECT to this
	// machine's own virtual disk and now and then failed there with EIO
	// ("I/O error, dev vdd" in the guest, and the log stopped).
	Scratch bool
}

// DevPath is the disk's device in the guest (udev's by-id link).
func (d Disk) DevPath() string { return "/dev/disk/by-id/virtio-" + d.Name }

// Fwd forwards connections to a guest address and port to a port on the
// host's loopback.
type Fwd struct {
	GuestAddr string // e.g. 10.0.2.100, in the user network's 10.0.2.0/24
	GuestPort int
	HostPort  int
}

// Machine is one virtual machine: its disks persist across its boots (a
// power cut and a boot again), its share and console log live in the
// test's temporary directory.
type Machine struct {
	img   Image
	opts  Opts
	dir   string
	root  string // the overlay, or the image itself (snapshot)
	state string // the state disk, cache=none

	// Share is a host directory the guest sees read-only at /mnt/host.
	Share string
	// DiskFiles are the extra disks' files on the host (Opts.Disks).
	DiskFiles []string

	mu      sync.Mutex
	cur     *boot
	console []string // every console line of every boot, in order
	changed chan struct{}

	// BootTimes are the durations from qemu's start to the ready line.
	BootTimes []time.Duration
}

// boot is one run of qemu.
type boot struct {
	cmd       *exec.Cmd
	done      chan struct{}
	err       error
	stderr    bytes.Buffer
	cmdAddr   string
	simAddr   string
	start     time.Time
	firstLine int // this run's first line in Machine.console
}

// New makes a machine (its disks and share) without booting it; it is
// powered off when the test ends.
func New(t testing.TB, img Image, opts Opts) *Machine {
	t.Helper()
	if opts.StateMiB == 0 {
		opts.StateMiB = 128
	}
	if opts.SMP == 0 {
		opts.SMP = 1
	}
	dir := t.TempDir()
	m := &Machine{img: img, opts: opts, dir: dir, changed: make(chan struct{}),
		root: filepath.Join(img.Dir, "rootfs.img"), state: filepath.Join(dir, "state.img"),
		Share: filepath.Join(dir, "share")}
	if err := os.Mkdir(m.Share, 0o755); err != nil {
		t.Fatal(err)
	}
	if opts.Persistent {
		m.root = filepath.Join(dir, "root.qcow2")
		run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", filepath.Join(img.Dir, "rootfs.img"), m.root)
	}
	f, err := os.Create(m.state)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(opts.StateMiB) << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	run(t, "mkfs.ext4", "-q", "-F", "-L", "tcstate", m.state)
	for _, d := range opts.Disks {
		name := filepath.Join(dir, "disk-"+d.Name+".img")
		f, err := os.Create(name)
		if err == nil {
			err = f.Truncate(int64(d.MiB) << 20)
			f.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		m.DiskFiles = append(m.DiskFiles, name)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serial console (last 60 lines):\n%s", m.consoleTail(60))
		}
		m.kill()
	})
	return m
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// freePort returns a loopback TCP port that was free a moment ago; qemu
// failing to bind it (another test took it) makes Boot try again.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Boot starts the machine and waits for the image's ready line on the
// console (after multi-user.target, so after the agent's READY when its
// service is enabled). It returns the time the boot took.
func (m *Machine) Boot(t testing.TB) time.Duration {
	t.Helper()
	if m.Running() {
		t.Fatal("vmtest: Boot while the machine runs")
	}
	mark := m.consoleLen()
	m.powerOn(t)
	m.WaitConsoleFrom(t, mark, `TCVM-READY`, BootTimeout)
	d := time.Since(m.cur.start)
	m.BootTimes = append(m.BootTimes, d)
	t.Logf("vmtest: booted in %.1f s", d.Seconds())
	return d
}

// powerOn starts qemu, trying again when it exits at once (a forward
// port taken meanwhile).
func (m *Machine) powerOn(t testing.TB) {
	t.Helper()
	var err error
	for try := 0; try < 5; try++ {
		if err = m.start(); err == nil {
			return
		}
	}
	t.Fatal(err)
}

// start runs qemu with fresh forward ports; an error means qemu exited at
// once (a port taken: worth another try).
func (m *Machine) start() error {
	cmdPort, err := freePort()
	if err != nil {
		return err
	}
	simPort, err := freePort()
	if err != nil {
		return err
	}
	root := "file=" + m.root + ",if=virtio,format=raw,snapshot=on"
	if m.opts.Persistent {
		root = "file=" + m.root + ",if=virtio,format=qcow2"
	}
	rtc := "utc"
	if m.opts.RTCBase != "" {
		rtc = m.opts.RTCBase
	}
	netdev := fmt.Sprintf("user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:%d,hostfwd=tcp:127.0.0.1:%d-:%d",
		cmdPort, guestCmdPort, simPort, guestSimPort)
	for _, f := range m.opts.GuestFwd {
		netdev += fmt.Sprintf(",guestfwd=tcp:%s:%d-cmd:socat STDIO TCP:127.0.0.1:%d", f.GuestAddr, f.GuestPort, f.HostPort)
	}
	args := []string{
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-machine", "q35", "-accel", "tcg,thread=multi", "-cpu", "max",
		"-m", "512", "-smp", strconv.Itoa(m.opts.SMP), "-rtc", "base=" + rtc,
		"-kernel", filepath.Join(m.img.Dir, "vmlinuz"),
		"-initrd", filepath.Join(m.img.Dir, "initrd.img"),
		// net.ifnames=0: the initrd sets up eth0 (no network daemon).
		// systemd.show_status=auto: systemd's status lines on the serial
		// console only when a unit fails or the boot is slow (each byte is
		// an emulated UART write).
		"-append", "root=/dev/vda rw console=ttyS0,115200 loglevel=4 mitigations=off reboot=t net.ifnames=0 systemd.show_status=auto",
		"-drive", root,
		// The state disk bypasses the host's page cache: killing qemu loses
		// exactly what the guest had not flushed, as a power cut does.
		"-drive", "file=" + m.state + ",if=virtio,format=raw,cache=none,aio=threads",
	}
	for i, d := range m.DiskFiles {
		id := "x" + strconv.Itoa(i)
		// Slots after the root and state disks' (given out first), so
		// those stay /dev/vda and /dev/vdb, as the initrd and fstab expect.
		cache := "cache=none,aio=threads"
		if m.opts.Disks[i].Scratch {
			cache = "cache=writeback"
		}
		args = append(args, "-drive", "file="+d+",if=none,id="+id+",format=raw,"+cache,
			"-device", fmt.Sprintf("virtio-blk-pci,drive=%s,serial=%s,addr=%#x", id, m.opts.Disks[i].Name, 0x10+i))
	}
	args = append(args,
		"-netdev", netdev,
		"-device", "virtio-net-pci,netdev=n0",
		"-virtfs", "local,path="+m.Share+",mount_tag=host,security_model=none,readonly=on",
		"-device", "virtio-rng-pci",
		"-chardev", "stdio,id=con0,signal=off", "-serial", "chardev:con0",
	)
	if m.opts.Console2 {
		args = append(args, "-chardev", "pty,id=con1", "-serial", "chardev:con1")
	}
	mark := m.consoleLen()
	b := &boot{done: make(chan struct{}), start: time.Now(), firstLine: mark,
		cmdAddr: fmt.Sprintf("127.0.0.1:%d", cmdPort), simAddr: fmt.Sprintf("127.0.0.1:%d", simPort)}
	b.cmd = exec.Command("qemu-system-x86_64", args...)
	b.cmd.Stderr = &lockedWriter{mu: &m.mu, w: &b.stderr, after: m.notifyLocked}
	// stdin: a pipe nobody writes to, kept open while qemu runs.
	stdin, err := b.cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := b.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := b.cmd.Start(); err != nil {
		return fmt.Errorf("vmtest: start qemu: %w", err)
	}
	m.mu.Lock()
	m.cur = b
	m.mu.Unlock()
	read := make(chan struct{})
	go func() { m.readConsole(out); close(read) }()
	go func() {
		<-read
		b.err = b.cmd.Wait()
		stdin.Close()
		m.mu.Lock()
		close(b.done)
		m.notifyLocked()
		m.mu.Unlock()
	}()
	// qemu fails on a taken port before the guest prints anything.
	timeout := time.After(30 * time.Second)
	for m.consoleLen() <= mark {
		select {
		case <-b.done:
			m.mu.Lock()
			defer m.mu.Unlock()
			return fmt.Errorf("vmtest: qemu exited at start (%v): %s", b.err, b.stderr.String())
		case <-m.waitLine(mark): // a console line, or stderr written
		case <-timeout:
			return nil
		}
	}
	return nil
}

type lockedWriter struct {
	mu    *sync.Mutex
	w     io.Writer
	after func() // called under mu after each write
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(p)
	if l.after != nil {
		l.after()
	}
	return n, err
}

var ptyRE = regexp.MustCompile(`char device redirected to (/dev/pts/\d+) \(label con1\)`)

// Console2 is the host pseudo-terminal of the guest's second serial port
// (Opts.Console2) in this run of qemu: what a technician's terminal
// program opens.
func (m *Machine) Console2(t testing.TB) string {
	t.Helper()
	if !m.opts.Console2 {
		t.Fatal("vmtest: Console2 without Opts.Console2")
	}
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	for {
		// qemu names it on stdout (the console's stream) or stderr.
		m.mu.Lock()
		b := m.cur
		match := ptyRE.FindStringSubmatch(b.stderr.String())
		for i := len(m.console) - 1; i >= b.firstLine && match == nil; i-- {
			match = ptyRE.FindStringSubmatch(m.console[i])
		}
		changed := m.changed
		m.mu.Unlock()
		if match != nil {
			return match[1]
		}
		select {
		case <-changed:
		case <-b.done:
			t.Fatalf("vmtest: qemu exited before naming the second serial port's pty")
		case <-deadline.C:
			t.Fatalf("vmtest: qemu never named the second serial port's pty")
		}
	}
}

// WaitReboot waits for a reboot the guest started itself: its kernel's
// last line ("reboot: Restarting system") after mark, then qemu's exit,
// then it powers the machine on again and waits for the image's ready
// line. qemu runs with -no-reboot: under TCG a warm reset now and then
// oopsed the 7.3 kernel early in the next boot (an int3 in
// sched_clock_cpu while kdamond started), so the reset is a fresh qemu on
// the same disks, as a board's reset line restarts it from cold. It
// returns the time from since to ready as the boot's time.
func (m *Machine) WaitReboot(t testing.TB, mark int, since time.Time) time.Duration {
	t.Helper()
	m.mu.Lock()
	b := m.cur
	m.mu.Unlock()
	select {
	case <-b.done:
	case <-time.After(BootTimeout):
		t.Fatalf("vmtest: the guest did not reboot within %v:\n%s", BootTimeout, m.consoleTail(40))
	}
	if !m.consoleHasFrom(mark, "reboot: Restarting system") {
		t.Fatalf("vmtest: qemu exited (%v) without the kernel's reboot line:\n%s", b.err, m.consoleTail(40))
	}
	again := m.consoleLen()
	m.powerOn(t)
	m.WaitConsoleFrom(t, again, `TCVM-READY`, BootTimeout)
	d := time.Since(since)
	m.BootTimes = append(m.BootTimes, d)
	t.Logf("vmtest: rebooted in %.1f s", d.Seconds())
	return d
}

// readConsole collects the serial console's lines, and keeps them in
// console.log in the test's directory.
func (m *Machine) readConsole(r io.Reader) {
	log, _ := os.OpenFile(filepath.Join(m.dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if log != nil {
		defer log.Close()
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if log != nil {
			fmt.Fprintln(log, line)
		}
		m.mu.Lock()
		m.console = append(m.console, line)
		m.notifyLocked()
		m.mu.Unlock()
	}
}

func (m *Machine) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// waitLine returns a channel closed once the console has more than n lines
// or qemu exits.
func (m *Machine) waitLine(n int) <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.console) > n {
		c := make(chan struct{})
		close(c)
		return c
	}
	return m.changed
}

// consoleHasFrom says whether a console line from mark on contains sub.
func (m *Machine) consoleHasFrom(mark int, sub string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := mark; i < len(m.console); i++ {
		if strings.Contains(m.console[i], sub) {
			return true
		}
	}
	return false
}

func (m *Machine) consoleLen() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.console)
}

func (m *Machine) consoleTail(n int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	lines := m.console
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := strings.Join(lines, "\n")
	if m.cur != nil && m.cur.stderr.Len() > 0 {
		s += "\nqemu stderr:\n" + m.cur.stderr.String()
	}
	return s
}

// ConsoleMark is the position in the console's lines now: WaitConsoleFrom
// a mark sees only lines printed after it.
func (m *Machine) ConsoleMark() int { return m.consoleLen() }

// WaitConsoleFrom waits until a console line after mark matches the
// regular expression, and returns the line. It fails the test when qemu
// exits first or after timeout.
func (m *Machine) WaitConsoleFrom(t testing.TB, mark int, expr string, timeout time.Duration) string {
	t.Helper()
	re := regexp.MustCompile(expr)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		for i := mark; i < len(m.console); i++ {
			if re.MatchString(m.console[i]) {
				l := m.console[i]
				m.mu.Unlock()
				return l
			}
		}
		mark = len(m.console)
		changed := m.changed
		b := m.cur
		m.mu.Unlock()
		select {
		case <-b.done:
			t.Fatalf("vmtest: qemu exited (%v) before the console showed %q", b.err, expr)
		default:
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("vmtest: after %v the console never showed %q", timeout, expr)
		}
	}
}

// Running reports whether qemu runs.
func (m *Machine) Running() bool {
	m.mu.Lock()
	b := m.cur
	m.mu.Unlock()
	if b == nil {
		return false
	}
	select {
	case <-b.done:
		return false
	default:
		return true
	}
}

// PowerCut kills qemu (SIGKILL): the guest's page cache and everything the
// state disk had not been told to flush are gone, as in a power loss.
func (m *Machine) PowerCut() {
	m.kill()
}

func (m *Machine) kill() {
	m.mu.Lock()
	b := m.cur
	m.mu.Unlock()
	if b == nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGKILL)
	<-b.done
}

// Shutdown powers the guest off cleanly and waits for qemu to exit.
func (m *Machine) Shutdown(t testing.TB) {
	t.Helper()
	if !m.Running() {
		return
	}
	m.Exec(30*time.Second, "systemctl --no-block poweroff")
	m.mu.Lock()
	b := m.cur
	m.mu.Unlock()
	select {
	case <-b.done:
	case <-time.After(2 * time.Minute):
		t.Errorf("vmtest: the guest did not power off within 2 minutes; killing qemu")
		m.kill()
	}
}

// ErrNoAnswer is a command connection that ended without the exit status
// line: the guest was not listening yet, or went away meanwhile.
var ErrNoAnswer = errors.New("vmtest: no exit status from the guest")

// Exec runs a shell script in the guest as root (sh, its stderr merged into
// its output) and returns the output and the exit status.
func (m *Machine) Exec(timeout time.Duration, script string) (string, int, error) {
	m.mu.Lock()
	b := m.cur
	m.mu.Unlock()
	if b == nil {
		return "", 0, errors.New("vmtest: not booted")
	}
	c, err := net.DialTimeout("tcp", b.cmdAddr, timeout)
	if err != nil {
		return "", 0, fmt.Errorf("vmtest: command socket: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, script+"\n"); err != nil {
		return "", 0, fmt.Errorf("vmtest: send script: %w", err)
	}
	c.(*net.TCPConn).CloseWrite()
	out, err := io.ReadAll(c)
	if err != nil {
		return string(out), 0, fmt.Errorf("vmtest: read reply: %w", err)
	}
	s := string(out)
	i := strings.LastIndex(s, "__TCVM_RC=")
	if i < 0 {
		return s, 0, ErrNoAnswer
	}
	rc, err := strconv.Atoi(strings.TrimSpace(s[i+len("__TCVM_RC="):]))
	if err != nil {
		return s, 0, fmt.Errorf("vmtest: exit status line %q", s[i:])
	}
	return s[:i], rc, nil
}

// Run runs a script that must succeed and returns its output.
func (m *Machine) Run(t testing.TB, timeout time.Duration, script string) string {
	t.Helper()
	out, rc, err := m.Exec(timeout, script)
	if err != nil {
		t.Fatalf("guest: %s: %v\n%s", script, err, out)
	}
	if rc != 0 {
		t.Fatalf("guest: %s: exit status %d\n%s", script, rc, out)
	}
	return out
}

// ReadFile returns a file of the guest.
func (m *Machine) ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	out := m.Run(t, 2*time.Minute, "base64 -w0 "+shellQuote(path))
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("guest file %s: %v", path, err)
	}
	return b
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// DialSim connects to the sim board's control socket inside the guest
// (forwarded to the host's loopback), waiting until the agent answers.
func (m *Machine) DialSim(t testing.TB, timeout time.Duration) *daemontest.Sim {
	t.Helper()
	m.mu.Lock()
	b := m.cur
	m.mu.Unlock()
	// A connection is accepted before the guest's socat reaches the agent;
	// only an answer to status says the agent is there. Each try costs the
	// guest a process, so tries are spaced.
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		c, err := net.DialTimeout("tcp", b.simAddr, 5*time.Second)
		if err == nil {
			s := daemontest.SimConn(t, c)
			r, err := s.Try("status")
			if err == nil && r["ok"] == true {
				return s
			}
			c.Close()
			last = err
		} else {
			last = err
		}
		if time.Now().After(deadline) {
			t.Fatalf("vmtest: after %v the sim board's control socket never answered through the guest (%v)", timeout, last)
		}
		select {
		case <-tick.C:
		case <-b.done:
			t.Fatalf("vmtest: qemu exited (%v) while waiting for the sim board's control socket", b.err)
		}
	}
}
