// Package cli is what the two commands' flag parsing has in common: quiet
// parsing with the usage on -h, the flags given explicitly, the log level,
// and the usage error main exits 2 on.
package cli

import (
	"flag"
	"io"
	"log/slog"
	"os"
)

// UsageError is a mistake on the command line; main exits 2 on it.
type UsageError struct{ Cmd, Msg string }

func (e *UsageError) Error() string { return e.Msg + " (see " + e.Cmd + " -h)" }

// Parse parses args with fs. Errors are returned, not printed; -h prints
// usage and the flags' defaults on stdout and returns flag.ErrHelp. It
// returns the names of the flags given explicitly (to override a config
// file only with those).
func Parse(fs *flag.FlagSet, usage string, args []string) (map[string]bool, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fs.SetOutput(os.Stdout)
		io.WriteString(os.Stdout, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.Usage()
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, &UsageError{Cmd: fs.Name(), Msg: "unexpected argument " + fs.Arg(0)}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set, nil
}

// Level reads a --log-level value.
func Level(cmd, s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, &UsageError{Cmd: cmd, Msg: "--log-level " + s + ": want debug, info, warn or error"}
	}
	return l, nil
}
