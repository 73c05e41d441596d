// Package sim is the simulated clock: a keypad, display, badge reader and
// indicator in memory, driven by a unix control socket (see control.go) and,
// when a person is at a terminal, by a terminal UI (see tui.go).
package sim

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"timeclock/hal"
	"timeclock/hal/fingerprint/fpsim"
)

// Opts configures a simulated board.
type Opts struct {
	// Cols and Rows are the display geometry.
	Cols, Rows int
	// Now is the board's clock, stamped on key and badge events.
	Now func() time.Time
	// Queue is how many key or badge events may wait unread.
	Queue int
}

// DefaultOpts is a 20x4 display like the larger models.
var DefaultOpts = Opts{Cols: 20, Rows: 4, Now: time.Now, Queue: 64}

// Board is the simulated hardware. Its Keypad, Display, BadgeReader and
// Indicator share one state, which the control socket and the TUI read.
type Board struct {
	opts   Opts
	keys   chan hal.KeyEvent
	badges chan hal.BadgeEvent
	halted chan struct{}
	once   sync.Once

	mu       sync.Mutex
	lines    []string // guarded by mu; always opts.Rows lines
	green    bool     // guarded by mu
	red      bool     // guarded by mu
	buzzer   string   // guarded by mu; last pattern sounded, "" if none
	beeps    int      // guarded by mu; how many patterns have sounded
	light    bool     // guarded by mu
	status   func() map[string]any
	watchers map[chan struct{}]struct{} // guarded by mu

	// finger is the simulated fingerprint module, which the real driver
	// reaches over a pty (board opens it); Finger places fingers on it.
	finger *fpsim.Sensor
}

// New makes a simulated board. A nil opts means DefaultOpts.
func New(opts *Opts) (*Board, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Cols < 8 || o.Cols > 80 || o.Rows < 1 || o.Rows > 16 {
		return nil, fmt.Errorf("sim: display %dx%d out of range (8-80 x 1-16)", o.Cols, o.Rows)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Queue <= 0 {
		o.Queue = DefaultOpts.Queue
	}
	return &Board{
		opts:     o,
		keys:     make(chan hal.KeyEvent, o.Queue),
		badges:   make(chan hal.BadgeEvent, o.Queue),
		halted:   make(chan struct{}),
		lines:    make([]string, o.Rows),
		light:    true,
		watchers: map[chan struct{}]struct{}{},
		finger:   fpsim.New(),
	}, nil
}

func (b *Board) String() string { return fmt.Sprintf("sim(%dx%d)", b.opts.Cols, b.opts.Rows) }

// Halt stops the board: blocked reads return hal.ErrHalted.
func (b *Board) Halt() error {
	b.once.Do(func() { close(b.halted) })
	return nil
}

// SetStatus installs the function the control socket's "status" command
// reports; the agent provides it.
func (b *Board) SetStatus(f func() map[string]any) {
	b.mu.Lock()
	b.status = f
	b.mu.Unlock()
}

// Press queues a key press as if a person pressed it.
func (b *Board) Press(k hal.Key) error {
	select {
	case <-b.halted:
		return hal.ErrHalted
	default:
	}
	select {
	case b.keys <- hal.KeyEvent{Key: k, Time: b.opts.Now()}:
		return nil
	default:
		return fmt.Errorf("keypad queue full (%d keys unread)", cap(b.keys))
	}
}

// Swipe queues a badge read. badge is the card number in decimal digits
// ("34567"), or a facility code and the card number ("12:34567"), as a
// Wiegand reader would read them apart; facility code 0 is the same as
// none.
func (b *Board) Swipe(badge string) error {
	facility, number, err := parseBadge(badge)
	if err != nil {
		return err
	}
	select {
	case <-b.halted:
		return hal.ErrHalted
	default:
	}
	ev := hal.BadgeEvent{Format: hal.FormatSim, Facility: facility, Number: number, Raw: []byte(badge), Bits: 8 * len(badge), Time: b.opts.Now()}
	select {
	case b.badges <- ev:
		return nil
	default:
		return fmt.Errorf("badge queue full (%d reads unread)", cap(b.badges))
	}
}

// FingerSensor is the simulated fingerprint module on the board.
func (b *Board) FingerSensor() *fpsim.Sensor { return b.finger }

// maxFingerName bounds a simulated finger's name.
const maxFingerName = 32

// Finger places the finger named id on the fingerprint sensor for one
// touch: the finger enrolled as id (the sim's convention: an employee's
// finger is named by their employee ID), or, when nobody enrolled it, an
// unknown finger.
func (b *Board) Finger(id string) error {
	if id == "" || len(id) > maxFingerName || strings.IndexFunc(id, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("-_.:", r))
	}) >= 0 {
		return fmt.Errorf("finger %q: want 1-%d letters, digits or - _ . :", id, maxFingerName)
	}
	select {
	case <-b.halted:
		return hal.ErrHalted
	default:
	}
	b.finger.Place(id)
	return nil
}

// maxBadgeDigits bounds a card number: 20 digits hold any 64-bit UID.
const maxBadgeDigits = 20

// maxFacilityDigits bounds a facility code: 10 digits hold any 32-bit one.
const maxFacilityDigits = 10

// parseBadge reads NUMBER or FACILITY:NUMBER.
func parseBadge(s string) (facility uint32, number string, err error) {
	fc, number, hasFC := strings.Cut(s, ":")
	if !hasFC {
		return 0, s, checkBadgeNumber(s)
	}
	if fc == "" {
		return 0, "", fmt.Errorf("badge %q: facility code missing before the colon", s)
	}
	if len(fc) > maxFacilityDigits || strings.Trim(fc, "0123456789") != "" {
		return 0, "", fmt.Errorf("badge %q: facility code %q is not a number of at most %d digits", s, fc, maxFacilityDigits)
	}
	f, err := strconv.ParseUint(fc, 10, 32)
	if err != nil {
		return 0, "", fmt.Errorf("badge %q: facility code %s is too large (at most %d)", s, fc, uint32(math.MaxUint32))
	}
	if err := checkBadgeNumber(number); err != nil {
		return 0, "", err
	}
	return uint32(f), number, nil
}

func checkBadgeNumber(s string) error {
	if s == "" {
		return fmt.Errorf("badge number missing")
	}
	if len(s) > maxBadgeDigits {
		return fmt.Errorf("badge number too long (%d digits, at most %d)", len(s), maxBadgeDigits)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return fmt.Errorf("badge number %q is not decimal digits", s)
		}
	}
	return nil
}

// Screen returns the display lines, trailing blanks trimmed.
func (b *Board) Screen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, len(b.lines))
	for i, l := range b.lines {
		out[i] = strings.TrimRight(l, " ")
	}
	return out
}

// Lights is the indicator state.
type Lights struct {
	Green     bool   `json:"green"`
	Red       bool   `json:"red"`
	Buzzer    string `json:"buzzer"` // last pattern sounded: "ok", "error" or ""
	Beeps     int    `json:"beeps"`  // patterns sounded since start
	Backlight bool   `json:"backlight"`
}

// Lights returns the LED and buzzer state.
func (b *Board) Lights() Lights {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Lights{Green: b.green, Red: b.red, Buzzer: b.buzzer, Beeps: b.beeps, Backlight: b.light}
}

// Status calls the agent's status function; nil if none is installed.
func (b *Board) Status() map[string]any {
	b.mu.Lock()
	f := b.status
	b.mu.Unlock()
	if f == nil {
		return nil
	}
	return f()
}

// Watch returns a channel that receives (coalesced) whenever the screen or
// the indicators change, and a function to stop watching.
func (b *Board) Watch() (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	b.mu.Lock()
	b.watchers[c] = struct{}{}
	b.mu.Unlock()
	return c, func() {
		b.mu.Lock()
		delete(b.watchers, c)
		b.mu.Unlock()
	}
}

// notifyLocked wakes every watcher; b.mu must be held.
func (b *Board) notifyLocked() {
	for c := range b.watchers {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// Keypad returns the board's keypad.
func (b *Board) Keypad() hal.Keypad { return (*keypad)(b) }

// Display returns the board's display.
func (b *Board) Display() hal.Display { return (*display)(b) }

// BadgeReader returns the board's badge reader.
func (b *Board) BadgeReader() hal.BadgeReader { return (*reader)(b) }

// Indicator returns the board's LEDs and buzzer.
func (b *Board) Indicator() hal.Indicator { return (*indicator)(b) }

type keypad Board

var _ hal.Keypad = (*keypad)(nil)

func (k *keypad) String() string { return "sim-keypad" }
func (k *keypad) Halt() error    { return (*Board)(k).Halt() }
func (k *keypad) ReadKey(ctx context.Context) (hal.KeyEvent, error) {
	select {
	case ev := <-k.keys:
		return ev, nil
	case <-ctx.Done():
		return hal.KeyEvent{}, ctx.Err()
	case <-k.halted:
		return hal.KeyEvent{}, hal.ErrHalted
	}
}

type reader Board

var _ hal.BadgeReader = (*reader)(nil)

func (r *reader) String() string { return "sim-badge" }
func (r *reader) Halt() error    { return (*Board)(r).Halt() }
func (r *reader) ReadBadge(ctx context.Context) (hal.BadgeEvent, error) {
	select {
	case ev := <-r.badges:
		return ev, nil
	case <-ctx.Done():
		return hal.BadgeEvent{}, ctx.Err()
	case <-r.halted:
		return hal.BadgeEvent{}, hal.ErrHalted
	}
}

type display Board

var (
	_ hal.Display   = (*display)(nil)
	_ hal.Backlight = (*display)(nil)
)

func (d *display) String() string   { return fmt.Sprintf("sim-display(%dx%d)", d.opts.Cols, d.opts.Rows) }
func (d *display) Halt() error      { return d.Clear() }
func (d *display) Size() (int, int) { return d.opts.Cols, d.opts.Rows }

func (d *display) Show(lines []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.lines {
		l := ""
		if i < len(lines) {
			l = fit(lines[i], d.opts.Cols)
		}
		d.lines[i] = l
	}
	(*Board)(d).notifyLocked()
	return nil
}

func (d *display) Clear() error { return d.Show(nil) }

func (d *display) SetBacklight(on bool) error {
	d.mu.Lock()
	d.light = on
	(*Board)(d).notifyLocked()
	d.mu.Unlock()
	return nil
}

// fit cuts s to cols runes and replaces control characters, as a character
// LCD would show them.
func fit(s string, cols int) string {
	var sb strings.Builder
	n := 0
	for _, r := range s {
		if n == cols {
			break
		}
		if r < ' ' || r == utf8.RuneError || r == 0x7f {
			r = '?'
		}
		sb.WriteRune(r)
		n++
	}
	return sb.String()
}

type indicator Board

var _ hal.Indicator = (*indicator)(nil)

func (i *indicator) String() string { return "sim-indicator" }
func (i *indicator) Halt() error {
	i.mu.Lock()
	i.green, i.red = false, false
	(*Board)(i).notifyLocked()
	i.mu.Unlock()
	return nil
}

func (i *indicator) SetLED(led hal.LED, on bool) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	switch led {
	case hal.LEDGreen:
		i.green = on
	case hal.LEDRed:
		i.red = on
	default:
		return fmt.Errorf("sim: no LED %v", led)
	}
	(*Board)(i).notifyLocked()
	return nil
}

// Beep records the pattern; the simulated buzzer takes no time.
func (i *indicator) Beep(ctx context.Context, p hal.Pattern) error {
	if p != hal.PatternOK && p != hal.PatternError {
		return fmt.Errorf("sim: unknown buzzer pattern %v", p)
	}
	i.mu.Lock()
	i.buzzer = p.String()
	i.beeps++
	(*Board)(i).notifyLocked()
	i.mu.Unlock()
	return ctx.Err()
}
