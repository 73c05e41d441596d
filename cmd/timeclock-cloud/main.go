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
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "mosquitto-config" {
		os.Exit(mosquittoConfig(args[1:], os.Stdout, os.Stderr))
	}
	if len(args) > 0 && args[0] == "release" {
		os.Exit(releaseCommand(args[1:], os.Stdout, os.Stderr))
	}
	if len(args) > 0 && setupCommands[args[0]] {
		os.Exit(setupCommand(args, os.Stdin, os.Stdout, os.Stderr))
	}
	fl, err := parseFlags(args)
	if err != nil {
		exit(err, 2)
	}
	if fl.version {
		fmt.Printf("timeclock-cloud %s (%s/%s)\n", version, runtime.GOOS, runtime.GOARCH)
		return
	}
	cfg, err := config(fl)
	if err != nil {
		exit(err, 1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err = run(ctx, cfg, logging{file: fl.logFile, level: fl.level})
	stop()
	exit(err, 1)
}

// exit ends the process: status 0 without an error (or after -h printed
// the usage), otherwise the error on stderr and code.
func exit(err error, code int) {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	fmt.Fprintln(os.Stderr, "timeclock-cloud:", err)
	os.Exit(code)
}
