package edge

import (
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio/gpiotest"
)

// pin's WaitForEdge reports what the test sends it.
type pin struct {
	gpiotest.Pin
	edges chan bool
}

func (p *pin) WaitForEdge(time.Duration) bool { return <-p.edges }

func wait(done chan struct{}, p *pin) <-chan bool {
	got := make(chan bool, 1)
	go func() { got <- Wait(done, p) }()
	return got
}

func result(t *testing.T, got <-chan bool) bool {
	t.Helper()
	select {
	case v := <-got:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return")
		return false
	}
}

func TestEdge(t *testing.T) {
	p := &pin{edges: make(chan bool)}
	got := wait(make(chan struct{}), p)
	p.edges <- true
	if !result(t, got) {
		t.Fatal("an edge was not reported")
	}
}

// A halted pin's wait returns without an edge; once the driver is done,
// Wait returns false instead of waiting again.
func TestHalted(t *testing.T) {
	p := &pin{edges: make(chan bool, 1)} // Wait may see done before it waits
	done := make(chan struct{})
	got := wait(done, p)
	close(done)
	p.edges <- false
	if result(t, got) {
		t.Fatal("Wait reported an edge after halt")
	}
}

// A failed wait is retried, and an edge after it is reported.
func TestRetryAfterFailure(t *testing.T) {
	p := &pin{edges: make(chan bool)}
	got := wait(make(chan struct{}), p)
	p.edges <- false
	p.edges <- true
	if !result(t, got) {
		t.Fatal("the edge after a failed wait was not reported")
	}
}

func TestDoneBeforeWaiting(t *testing.T) {
	done := make(chan struct{})
	close(done)
	if Wait(done, &pin{edges: make(chan bool)}) {
		t.Fatal("Wait reported an edge with the driver already done")
	}
}
