// Command timeclockd is the clock's firmware agent: it opens the board named
// by --board and runs the agent until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	// No time/tzdata here: the zone data comes from the system's
	// /usr/share/zoneinfo (the .deb depends on tzdata), or is linked in with
	// -tags timetzdata (TZDATA=embed, scripts/agent-build.sh).
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	fl, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeclockd:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, fl)
	stop()
	var exit *exitStatus
	if errors.As(err, &exit) {
		os.Exit(exit.code)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeclockd:", err)
		os.Exit(1)
	}
}
