package daemontest

import (
	"testing"
	"time"

	"timeclock/internal/await"
)

// A busy process's CPU time grows and it has resident memory: the parsing
// of /proc that the idle benchmark relies on reads real numbers.
func TestUsageOfABusyProcess(t *testing.T) {
	p := Start(t, "/bin/sh", "-c", "while :; do :; done")
	await.True(t, 30*time.Second, func() bool { return p.CPU(t) >= 50*time.Millisecond },
		"a busy loop's CPU time stayed at %v", p.CPU(t))
	if rss := p.RSS(t); rss < 64<<10 {
		t.Fatalf("RSS %d bytes", rss)
	}
}
