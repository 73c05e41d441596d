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
	"runtime"
	"syscall"

	_ "time/tzdata" // clocks may ship without /usr/share/zoneinfo
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
	if fl.version {
		fmt.Printf("timeclockd %s (%s/%s)\n", version, runtime.GOOS, runtime.GOARCH)
		return
	}
	if fl.hashPasscode {
		if err := hashPasscode(os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "timeclockd: --hash-passcode:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, fl)
	stop()
	var reboot *rebootRequest
	if errors.As(err, &reboot) {
		err = reboot.do()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeclockd:", err)
		os.Exit(1)
	}
}
