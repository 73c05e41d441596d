// Package matrixtest is an electrical model of a matrix keypad without
// diodes, on gpiotest pins, for testing hal/matrix: a column reads low when
// pressed keys connect it to a row driven low, through as many keys as it
// takes, so ghost keys appear as they do on real keypads. Presses reach the
// driver as falling edges on haltest.EdgePin columns.
package matrixtest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"timeclock/hal/haltest"
)

// Keypad is the modelled keypad: its row and column pins and the keys
// held down.
type Keypad struct {
	Rows []*gpiotest.Pin
	Cols []*Col
	// Hold is how many scans of its row see a key pressed with Press down
	// before it is let go.
	Hold int
	// Bounce is how many scans see a key's contact chatter (open, closed,
	// open...) after it is pressed and again before it is let go.
	Bounce int

	mu      sync.Mutex
	changed chan struct{}    // guarded by mu; closed and replaced on change
	down    map[[2]int]*held // guarded by mu
	reads   int              // guarded by mu; column reads so far
}

// held is one key being pressed.
type held struct {
	seen    int // scans of its row so far
	forever bool
}

// New models a keypad of rows x cols keys.
func New(rows, cols int) *Keypad {
	k := &Keypad{Hold: 6, changed: make(chan struct{}), down: map[[2]int]*held{}}
	for r := range rows {
		k.Rows = append(k.Rows, &gpiotest.Pin{N: fmt.Sprintf("ROW%d", r), Num: r, L: gpio.High})
	}
	for c := range cols {
		k.Cols = append(k.Cols, &Col{EdgePin: haltest.NewEdgePin(fmt.Sprintf("COL%d", c), 100+c, gpio.High), k: k, c: c})
	}
	return k
}

// RowPins and ColPins return the pins as a driver takes them.
func (k *Keypad) RowPins() []gpio.PinIO {
	var ps []gpio.PinIO
	for _, p := range k.Rows {
		ps = append(ps, p)
	}
	return ps
}

// ColPins returns the column pins.
func (k *Keypad) ColPins() []gpio.PinIO {
	var ps []gpio.PinIO
	for _, p := range k.Cols {
		ps = append(ps, p)
	}
	return ps
}

func (k *Keypad) updateLocked() {
	close(k.changed)
	k.changed = make(chan struct{})
}

// Press waits until no key is down, then presses the key at row r, column
// c as a person would: the contact bounces, holds for Hold scans, bounces
// and opens. It returns once the driver has taken the column's edge.
func (k *Keypad) Press(t testing.TB, r, c int) {
	t.Helper()
	k.WaitReleased(t)
	k.mu.Lock()
	k.down[[2]int{r, c}] = &held{}
	k.updateLocked()
	k.mu.Unlock()
	k.Cols[c].Edge(t, gpio.Low)
}

// HoldDown presses keys at once and keeps them down until Release.
func (k *Keypad) HoldDown(t testing.TB, keys ...[2]int) {
	t.Helper()
	k.mu.Lock()
	cols := map[int]bool{}
	for _, rc := range keys {
		k.down[rc] = &held{forever: true, seen: k.Bounce}
		cols[rc[1]] = true
	}
	k.updateLocked()
	k.mu.Unlock()
	for c := range cols {
		k.Cols[c].Edge(t, gpio.Low)
	}
}

// Release lets every key go.
func (k *Keypad) Release() {
	k.mu.Lock()
	clear(k.down)
	k.updateLocked()
	k.mu.Unlock()
}

// WaitReleased waits until keys pressed with Press have been let go.
func (k *Keypad) WaitReleased(t testing.TB) {
	t.Helper()
	deadline := time.NewTimer(haltest.Deadline)
	defer deadline.Stop()
	for {
		k.mu.Lock()
		n := len(k.down)
		ch := k.changed
		k.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("keys still down after %v: is the driver scanning?", haltest.Deadline)
		}
	}
}

// Reads is how many times the driver has read a column.
func (k *Keypad) Reads() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reads
}

// WaitScans waits until the driver has scanned the whole matrix n more
// times.
func (k *Keypad) WaitScans(t testing.TB, n int) {
	t.Helper()
	k.mu.Lock()
	want := k.reads + n*len(k.Rows)*len(k.Cols)
	k.mu.Unlock()
	deadline := time.NewTimer(haltest.Deadline)
	defer deadline.Stop()
	for {
		k.mu.Lock()
		ok := k.reads >= want
		ch := k.changed
		k.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("the driver did not scan %d times in %v", n, haltest.Deadline)
		}
	}
}

// contactLocked reports whether a held key conducts on its n-th scan and
// moves it along its press; it lets the key go after its last scan.
func (k *Keypad) contactLocked(rc [2]int, h *held, advance bool) bool {
	n := h.seen
	if advance {
		h.seen++
	}
	b, hold := k.Bounce, k.Hold
	switch {
	case h.forever && n >= b:
		return true
	case n < b: // bouncing in: open on even scans
		return n%2 == 1
	case n < b+hold:
		return true
	case n < b+hold+b: // bouncing out
		return (n-b-hold)%2 == 1
	default:
		if advance {
			delete(k.down, rc)
			k.updateLocked()
		}
		return false
	}
}

// level computes column c: low when pressed keys connect it to a row that
// is driven low (a row's level is low only while driven; released rows are
// pulled up).
func (k *Keypad) level(c int) gpio.Level {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reads++
	k.updateLocked()
	nr := len(k.Rows)
	low := make([]bool, nr)
	for r, p := range k.Rows {
		low[r] = p.Read() == gpio.Low
	}
	// Union-find over rows (0..nr-1) and columns (nr..).
	parent := make([]int, nr+len(k.Cols))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	for rc, h := range k.down {
		// A scan of a key is a read of its column while its row is driven.
		if !k.contactLocked(rc, h, rc[1] == c && low[rc[0]]) {
			continue
		}
		parent[find(rc[0])] = find(nr + rc[1])
	}
	root := find(nr + c)
	for r := range nr {
		if low[r] && find(r) == root {
			return gpio.Low
		}
	}
	return gpio.High
}

// Col is a column pin: an EdgePin whose level the keypad computes.
type Col struct {
	*haltest.EdgePin
	k *Keypad
	c int
}

// Read returns the column's level as the keys and rows make it.
func (p *Col) Read() gpio.Level { return p.k.level(p.c) }

var _ gpio.PinIO = (*Col)(nil)
