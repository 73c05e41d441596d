// Package fingerprint drives the common optical fingerprint modules (R307,
// R503, ZFM-20, AS608: the protocol of Adafruit's fingerprint library) over
// a serial line. The module keeps the templates: it takes the image, makes
// the features, searches its own library and stores new templates in it.
// This driver never reads a template or an image out of the module (it has
// no UpChar or UpImage command), so nothing biometric reaches the host.
//
// Every reply is checked (start code, address, packet ID, length,
// checksum, the length the command's reply must have). A bad reply, a
// timeout or a port that vanished is an error wrapping hal.ErrSensor, never
// a match; after one the driver waits for the line to go quiet and says
// its password again before the next command, so a late reply is never
// taken for the answer to a later command and a module plugged back in
// (which forgot the handshake) works again.
package fingerprint

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"timeclock/hal/internal/portloop"

	"timeclock/hal"
)

// Opener opens the port, again after it vanished.
type Opener func() (io.ReadWriteCloser, error)

// DefaultBaud is the modules' factory speed.
const DefaultBaud = 57600

// Opts configures a sensor.
type Opts struct {
	// Address is the module's address (DefaultAddress unless changed).
	Address uint32
	// Password is the module's password (0 unless changed).
	Password uint32
	// Timeout bounds each reply. A search of a full 1000-template library
	// takes the module up to about a second.
	Timeout time.Duration
	// Poll is the pause between images while no finger is on the sensor.
	Poll time.Duration
	// ProbeTimeout bounds each reply while New first looks for the module
	// (0: Timeout). The handshake's replies come within milliseconds, so a
	// board whose module is optional sets it short: a clock without one
	// starts without waiting out Timeout.
	ProbeTimeout time.Duration
	// Logger gets the sensor's state changes (connected, not answering).
	// Nothing biometric is ever logged: slots and scores at most.
	Logger *slog.Logger
}

// DefaultOpts: the factory address and password, 2 s per reply, an image
// every 200 ms while waiting for a finger (five exchanges a second keep an
// idle clock under 1 % of a core; a finger rests on the glass longer than
// that anyway), every 50 ms once one is there (a lift, the next scan).
var DefaultOpts = Opts{Address: DefaultAddress, Timeout: 2 * time.Second, Poll: 200 * time.Millisecond}

// Dev is one fingerprint module.
type Dev struct {
	name string
	open Opener
	o    Opts
	log  *slog.Logger
	done chan struct{}
	halt sync.Once

	// use serialises the module: one command, or one capture sequence
	// (image, features, search), at a time.
	use sync.Mutex
	// Guarded by use.
	c        *conn // nil while closed
	verified bool  // the handshake was made on c
	dirty    bool  // a reply went missing: wait for quiet first
	slots    int   // library size from ReadSysParam
	needLift bool  // ReadFinger returned a finger that may still be there
	state    string

	// shown mirrors state for readers that must not wait for the module
	// (the clock's status, drawn by the punch loop).
	shown atomic.Pointer[string]

	emu      sync.Mutex
	enrolled chan struct{} // guarded by emu; non-nil during an enrollment, closed by Done
}

var (
	_ hal.FingerReader   = (*Dev)(nil)
	_ hal.FingerEnroller = (*Dev)(nil)
)

// New opens the module with open and says its password. name is for logs
// and String (the port's path). A module that does not answer is an error:
// the board declared one.
func New(name string, open Opener, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultOpts.Timeout
	}
	if o.Poll <= 0 {
		o.Poll = DefaultOpts.Poll
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dev{name: name, open: open, o: o, log: log, done: make(chan struct{}), state: "closed"}
	d.shown.Store(&d.state)
	d.use.Lock()
	defer d.use.Unlock()
	if o.ProbeTimeout > 0 {
		d.o.Timeout = o.ProbeTimeout
	}
	err := d.readyLocked()
	d.o.Timeout = o.Timeout
	if err != nil {
		d.closeLocked()
		return nil, fmt.Errorf("fingerprint %s: %w", name, err)
	}
	return d, nil
}

// SerialOpener opens a serial port at baud, 8N1 (8N2 is what some module
// datasheets say; 8N1 works with all of them), with no modem-line ioctls.
func SerialOpener(port string, baud int) Opener {
	return func() (io.ReadWriteCloser, error) { return portloop.OpenSerial(port, baud) }
}

func (d *Dev) String() string { return "fingerprint(" + d.name + ")" }

// Connected reports whether the module answered its last command.
func (d *Dev) Connected() bool { return d.SensorState() == "connected" }

// SensorState is the module's state as the log last said it: connected,
// not answering, unplugged, refused (wrong password). It never waits for
// the module.
func (d *Dev) SensorState() string { return *d.shown.Load() }

// Halt closes the port; a blocked ReadFinger returns hal.ErrHalted.
func (d *Dev) Halt() error {
	d.halt.Do(func() { close(d.done) })
	d.use.Lock()
	defer d.use.Unlock()
	d.closeLocked()
	return nil
}

// conn is one open port and the goroutine reading packets from it.
type conn struct {
	rw   io.ReadWriteCloser
	pkts chan reply // packets and parse errors; closed when the port failed
}

type reply struct {
	p   Packet
	err error
}

func startConn(rw io.ReadWriteCloser) *conn {
	c := &conn{rw: rw, pkts: make(chan reply, 16)}
	go func() {
		defer close(c.pkts)
		var ps Parser
		buf := make([]byte, 64)
		for {
			n, err := rw.Read(buf)
			ps.Feed(buf[:n], func(p Packet, err error) {
				select {
				case c.pkts <- reply{p, err}:
				default: // nobody asked: a stale reply, dropped
				}
			})
			if err != nil {
				c.pkts <- reply{err: fmt.Errorf("port: %w", err)}
				return
			}
		}
	}()
	return c
}

func (d *Dev) setStateLocked(to, why string) {
	if d.state != to {
		if to == "connected" {
			d.log.Info(fmt.Sprintf("%s: %s -> %s (%s)", d, d.state, to, why))
		} else {
			d.log.Warn(fmt.Sprintf("%s: %s -> %s (%s)", d, d.state, to, why))
		}
		d.state = to
		s := to
		d.shown.Store(&s)
	}
}

func (d *Dev) closeLocked() {
	if d.c != nil {
		d.c.rw.Close()
		for range d.c.pkts { // the reader ends once the port is closed
		}
		d.c = nil
	}
	d.verified = false
}

// readyLocked opens the port if needed, resynchronises a line that lost a
// reply, and makes the handshake.
func (d *Dev) readyLocked() error {
	if d.c == nil {
		rw, err := d.open()
		if err != nil {
			d.setStateLocked("unplugged", err.Error())
			return fmt.Errorf("%w: %w", hal.ErrSensor, err)
		}
		d.c = startConn(rw)
		d.verified = false
	}
	if d.dirty {
		if err := d.syncLocked(); err != nil {
			return err
		}
		d.dirty = false
		d.verified = false
	}
	if d.verified {
		return nil
	}
	var pw [5]byte
	pw[0] = CmdVerifyPasswd
	binary.BigEndian.PutUint32(pw[1:], d.o.Password)
	r, err := d.exchangeLocked(pw[:], 1)
	if err != nil {
		return err
	}
	switch r[0] {
	case CodeOK:
	case CodeWrongPassword:
		d.setStateLocked("refused", "wrong password")
		return fmt.Errorf("%w: the module refused the password", hal.ErrSensor)
	default:
		return codeErr("handshake", r[0])
	}
	r, err = d.exchangeLocked([]byte{CmdReadSysParam}, 17)
	if err != nil {
		return err
	}
	if r[0] != CodeOK {
		return codeErr("read system parameters", r[0])
	}
	d.slots = int(binary.BigEndian.Uint16(r[5:7]))
	if d.slots == 0 || d.slots > 3000 {
		return fmt.Errorf("%w: library size %d", hal.ErrSensor, d.slots)
	}
	d.verified = true
	d.setStateLocked("connected", fmt.Sprintf("%d template slots", d.slots))
	return nil
}

// syncLocked finds the line's present again after a reply went missing:
// it asks for the system parameters, whose 17-byte reply no other command
// has, and drops every packet before it (late replies to earlier
// commands, which a module sends in order). Only then is the next reply
// the answer to the next command.
func (d *Dev) syncLocked() error {
	if _, err := d.c.rw.Write(Packet{Address: d.o.Address, PID: PIDCommand, Payload: []byte{CmdReadSysParam}}.Marshal()); err != nil {
		d.closeLocked()
		d.setStateLocked("unplugged", err.Error())
		return fmt.Errorf("%w: write: %w", hal.ErrSensor, err)
	}
	t := time.NewTimer(2 * d.o.Timeout)
	defer t.Stop()
	for {
		select {
		case r, ok := <-d.c.pkts:
			if !ok || (r.err != nil && !errors.Is(r.err, ErrChecksum) && !errors.Is(r.err, ErrFrame)) {
				d.closeLocked()
				d.setStateLocked("unplugged", "port closed")
				return fmt.Errorf("%w: port closed", hal.ErrSensor)
			}
			if r.err == nil && r.p.PID == PIDAck && r.p.Address == d.o.Address && len(r.p.Payload) == 17 {
				return nil
			}
		case <-t.C:
			d.setStateLocked("not answering", "no reply to a resync")
			return fmt.Errorf("%w: no reply", hal.ErrSensor)
		case <-d.done:
			return hal.ErrHalted
		}
	}
}

// exchangeLocked sends one command and returns its reply's payload, which
// must be want bytes long.
func (d *Dev) exchangeLocked(cmd []byte, want int) ([]byte, error) {
	fail := func(err error) ([]byte, error) {
		d.setStateLocked("not answering", err.Error())
		return nil, fmt.Errorf("%w: command %#02x: %w", hal.ErrSensor, cmd[0], err)
	}
	// Anything already waiting is not the answer to this command.
	for drained := false; !drained; {
		select {
		case r, ok := <-d.c.pkts:
			if !ok || (r.err != nil && !errors.Is(r.err, ErrChecksum) && !errors.Is(r.err, ErrFrame)) {
				d.closeLocked()
				d.setStateLocked("unplugged", "port closed")
				return nil, fmt.Errorf("%w: port closed", hal.ErrSensor)
			}
		default:
			drained = true
		}
	}
	if _, err := d.c.rw.Write(Packet{Address: d.o.Address, PID: PIDCommand, Payload: cmd}.Marshal()); err != nil {
		d.closeLocked()
		d.setStateLocked("unplugged", err.Error())
		return nil, fmt.Errorf("%w: write: %w", hal.ErrSensor, err)
	}
	t := time.NewTimer(d.o.Timeout)
	defer t.Stop()
	select {
	case r, ok := <-d.c.pkts:
		switch {
		case !ok:
			d.closeLocked()
			d.setStateLocked("unplugged", "port closed")
			return nil, fmt.Errorf("%w: port closed", hal.ErrSensor)
		case r.err != nil && !errors.Is(r.err, ErrChecksum) && !errors.Is(r.err, ErrFrame):
			d.closeLocked()
			d.setStateLocked("unplugged", r.err.Error())
			return nil, fmt.Errorf("%w: %w", hal.ErrSensor, r.err)
		case r.err != nil:
			d.dirty = true // the rest of a garbled reply may follow
			return fail(r.err)
		case r.p.PID != PIDAck:
			d.dirty = true
			return fail(fmt.Errorf("%w: packet ID %#02x, want an ack", ErrFrame, r.p.PID))
		case r.p.Address != d.o.Address:
			d.dirty = true
			return fail(fmt.Errorf("%w: address %#08x", ErrFrame, r.p.Address))
		case len(r.p.Payload) != want && !(len(r.p.Payload) == 1 && r.p.Payload[0] != CodeOK):
			// A module answers an error with the code alone.
			d.dirty = true
			return fail(fmt.Errorf("%w: reply of %d bytes, want %d", ErrFrame, len(r.p.Payload), want))
		}
		return r.p.Payload, nil
	case <-t.C:
		d.dirty = true
		return fail(errors.New("timeout"))
	case <-d.done:
		return nil, hal.ErrHalted
	}
}

// commandLocked makes sure the module is ready, then exchanges.
func (d *Dev) commandLocked(cmd []byte, want int) ([]byte, error) {
	select {
	case <-d.done:
		return nil, hal.ErrHalted
	default:
	}
	if err := d.readyLocked(); err != nil {
		return nil, err
	}
	return d.exchangeLocked(cmd, want)
}

// codeErr is an unexpected confirmation code.
func codeErr(what string, code byte) error {
	return fmt.Errorf("%w: %s: confirmation code %#02x", hal.ErrSensor, what, code)
}

// imageLocked takes one image: true when a finger was there.
func (d *Dev) imageLocked() (bool, error) {
	r, err := d.commandLocked([]byte{CmdGenImg}, 1)
	if err != nil {
		return false, err
	}
	switch r[0] {
	case CodeOK:
		return true, nil
	case CodeNoFinger, CodeImageFail:
		return false, nil
	}
	return false, codeErr("image", r[0])
}

// featuresLocked turns the image into features in char buffer buf; false
// for an image too poor to use.
func (d *Dev) featuresLocked(buf byte) (bool, error) {
	r, err := d.commandLocked([]byte{CmdImg2Tz, buf}, 1)
	if err != nil {
		return false, err
	}
	switch r[0] {
	case CodeOK:
		return true, nil
	case CodeImageMessy, CodeFeatureFail, CodeInvalidImage:
		return false, nil
	}
	return false, codeErr("features", r[0])
}

// searchLocked searches the whole library for char buffer 1.
func (d *Dev) searchLocked() (hal.FingerEvent, error) {
	cmd := []byte{CmdSearch, 1, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(cmd[4:], uint16(d.slots))
	r, err := d.commandLocked(cmd, 5)
	if err != nil {
		return hal.FingerEvent{}, err
	}
	switch r[0] {
	case CodeOK:
		slot := int(binary.BigEndian.Uint16(r[1:3]))
		if slot >= d.slots {
			return hal.FingerEvent{}, fmt.Errorf("%w: search found slot %d of %d", hal.ErrSensor, slot, d.slots)
		}
		return hal.FingerEvent{Matched: true, Slot: slot, Score: int(binary.BigEndian.Uint16(r[3:5])), Time: time.Now()}, nil
	case CodeNotFound:
		return hal.FingerEvent{Time: time.Now()}, nil
	}
	return hal.FingerEvent{}, codeErr("search", r[0])
}

// fastPoll is the pause while a finger is expected soon: its lift, or an
// enrollment's next scan.
const fastPoll = 50 * time.Millisecond

// pause waits d.o.Poll (fast: at most fastPoll), without holding the
// module.
func (d *Dev) pause(ctx context.Context, fast bool) error {
	wait := d.o.Poll
	if fast {
		wait = min(wait, fastPoll)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-d.done:
		return hal.ErrHalted
	case <-t.C:
		return nil
	}
}

// enrolling returns the channel an enrollment closes when done; nil when
// none is open.
func (d *Dev) enrolling() chan struct{} {
	d.emu.Lock()
	defer d.emu.Unlock()
	return d.enrolled
}

// ReadFinger waits for a finger (after the previous one was lifted), then
// searches the library for it.
func (d *Dev) ReadFinger(ctx context.Context) (hal.FingerEvent, error) {
	for {
		if e := d.enrolling(); e != nil {
			select {
			case <-e:
			case <-ctx.Done():
				return hal.FingerEvent{}, ctx.Err()
			case <-d.done:
				return hal.FingerEvent{}, hal.ErrHalted
			}
		}
		ev, ok, fast, err := d.tryFinger()
		if err != nil || ok {
			return ev, err
		}
		if err := d.pause(ctx, fast); err != nil {
			return hal.FingerEvent{}, err
		}
	}
}

// tryFinger takes one image and, when a new finger is there, searches for
// it. fast says a finger is on the glass (still there, or too poor an
// image): look again soon.
func (d *Dev) tryFinger() (ev hal.FingerEvent, ok, fast bool, err error) {
	d.use.Lock()
	defer d.use.Unlock()
	if d.enrolling() != nil {
		return hal.FingerEvent{}, false, false, nil
	}
	there, err := d.imageLocked()
	if err != nil || !there {
		// No finger, or no telling: after a failed image the lift may
		// have been missed, and a finger still there reads again (the
		// duplicate window then says "Already punched").
		d.needLift = false
		return hal.FingerEvent{}, false, false, err
	}
	if d.needLift {
		return hal.FingerEvent{}, false, true, nil // the last finger is still there
	}
	good, err := d.featuresLocked(1)
	if err != nil || !good {
		return hal.FingerEvent{}, false, true, err // a poor image: take another
	}
	ev, err = d.searchLocked()
	if err != nil {
		return hal.FingerEvent{}, false, false, err
	}
	d.needLift = true
	return ev, true, false, nil
}

// FingerCount is how many templates the module holds.
func (d *Dev) FingerCount(ctx context.Context) (int, error) {
	d.use.Lock()
	defer d.use.Unlock()
	r, err := d.commandLocked([]byte{CmdTemplateCount}, 3)
	if err != nil {
		return 0, err
	}
	if r[0] != CodeOK {
		return 0, codeErr("template count", r[0])
	}
	return int(binary.BigEndian.Uint16(r[1:3])), nil
}

// FingerSlots is the module's library size.
func (d *Dev) FingerSlots(ctx context.Context) (int, error) {
	d.use.Lock()
	defer d.use.Unlock()
	if err := d.readyLocked(); err != nil {
		return 0, err
	}
	return d.slots, nil
}

// DeleteFinger deletes the template in slot.
func (d *Dev) DeleteFinger(ctx context.Context, slot int) error {
	d.use.Lock()
	defer d.use.Unlock()
	if err := d.readyLocked(); err != nil {
		return err
	}
	if slot < 0 || slot >= d.slots {
		return fmt.Errorf("fingerprint: slot %d out of 0-%d", slot, d.slots-1)
	}
	cmd := []byte{CmdDelete, 0, 0, 0, 1}
	binary.BigEndian.PutUint16(cmd[1:], uint16(slot))
	r, err := d.commandLocked(cmd, 1)
	if err != nil {
		return err
	}
	if r[0] != CodeOK {
		return codeErr("delete", r[0])
	}
	return nil
}

// DeleteAllFingers deletes every template on the module (Empty).
func (d *Dev) DeleteAllFingers(ctx context.Context) error {
	d.use.Lock()
	defer d.use.Unlock()
	r, err := d.commandLocked([]byte{CmdEmpty}, 1)
	if err != nil {
		return err
	}
	if r[0] != CodeOK {
		return codeErr("empty", r[0])
	}
	return nil
}

// StartEnroll takes the module for one enrollment.
func (d *Dev) StartEnroll() hal.FingerEnrollment {
	d.emu.Lock()
	defer d.emu.Unlock()
	for d.enrolled != nil { // one at a time; the agent never opens two
		e := d.enrolled
		d.emu.Unlock()
		<-e
		d.emu.Lock()
	}
	d.enrolled = make(chan struct{})
	return &enrollment{d: d, ch: d.enrolled}
}

type enrollment struct {
	d    *Dev
	ch   chan struct{}
	once sync.Once
}

func (e *enrollment) Done() {
	e.once.Do(func() {
		e.d.emu.Lock()
		close(e.ch)
		e.d.enrolled = nil
		e.d.emu.Unlock()
	})
}

// Scan waits for a finger and takes scan n.
func (e *enrollment) Scan(ctx context.Context, n int) (hal.FingerEvent, error) {
	if n < 1 || n > 3 {
		return hal.FingerEvent{}, fmt.Errorf("fingerprint: scan %d of 3", n)
	}
	d := e.d
	for {
		ev, ok, err := e.tryScan(n)
		if err != nil || ok {
			return ev, err
		}
		if err := d.pause(ctx, true); err != nil {
			return hal.FingerEvent{}, err
		}
	}
}

func (e *enrollment) tryScan(n int) (hal.FingerEvent, bool, error) {
	d := e.d
	d.use.Lock()
	defer d.use.Unlock()
	there, err := d.imageLocked()
	if err != nil || !there {
		return hal.FingerEvent{}, false, err
	}
	buf := byte(2)
	if n == 1 {
		buf = 1
	}
	ok, err := d.featuresLocked(buf)
	if err != nil {
		return hal.FingerEvent{}, false, err
	}
	if !ok {
		return hal.FingerEvent{}, false, hal.ErrNoFinger
	}
	switch n {
	case 1:
		ev, err := d.searchLocked()
		return ev, err == nil, err
	case 2:
		r, err := d.commandLocked([]byte{CmdRegModel}, 1)
		if err != nil {
			return hal.FingerEvent{}, false, err
		}
		switch r[0] {
		case CodeOK:
			return hal.FingerEvent{Time: time.Now()}, true, nil
		case CodeEnrollMismatch:
			return hal.FingerEvent{}, false, hal.ErrNotSameFinger
		}
		return hal.FingerEvent{}, false, codeErr("make template", r[0])
	}
	r, err := d.commandLocked([]byte{CmdMatch}, 3)
	if err != nil {
		return hal.FingerEvent{}, false, err
	}
	switch r[0] {
	case CodeOK:
		return hal.FingerEvent{Matched: true, Score: int(binary.BigEndian.Uint16(r[1:3])), Time: time.Now()}, true, nil
	case CodeNoMatch:
		return hal.FingerEvent{}, false, hal.ErrNotSameFinger
	}
	return hal.FingerEvent{}, false, codeErr("match", r[0])
}

// Lifted waits until no finger is on the sensor.
func (e *enrollment) Lifted(ctx context.Context) error {
	d := e.d
	for {
		d.use.Lock()
		there, err := d.imageLocked()
		d.use.Unlock()
		if err != nil {
			return err
		}
		if !there {
			return nil
		}
		if err := d.pause(ctx, true); err != nil {
			return err
		}
	}
}

// Store keeps the template (in char buffer 1 since scan 2) in slot.
func (e *enrollment) Store(ctx context.Context, slot int) error {
	d := e.d
	d.use.Lock()
	defer d.use.Unlock()
	if err := d.readyLocked(); err != nil {
		return err
	}
	if slot < 0 || slot >= d.slots {
		return fmt.Errorf("fingerprint: slot %d out of 0-%d", slot, d.slots-1)
	}
	cmd := []byte{CmdStore, 1, 0, 0}
	binary.BigEndian.PutUint16(cmd[2:], uint16(slot))
	r, err := d.commandLocked(cmd, 1)
	if err != nil {
		return err
	}
	if r[0] != CodeOK {
		return codeErr("store", r[0])
	}
	return nil
}
