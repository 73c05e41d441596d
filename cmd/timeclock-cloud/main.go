// Command timeclock-cloud is the reference cloud: the onboarding API over
// HTTPS, reachability and time over plain HTTP, and (in --dev mode) a dev
// CA, a demo company and a mail outbox. It runs until SIGINT or SIGTERM.
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

	_ "time/tzdata" // company time zones, even without /usr/share/zoneinfo
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "mosquitto-config" {
		os.Exit(mosquittoConfig(os.Args[2:], os.Stdout, os.Stderr))
	}
	fl, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeclock-cloud:", err)
		os.Exit(2)
	}
	if fl.version {
		fmt.Printf("timeclock-cloud %s (%s/%s)\n", version, runtime.GOOS, runtime.GOARCH)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err = run(ctx, fl)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeclock-cloud:", err)
		os.Exit(1)
	}
}
