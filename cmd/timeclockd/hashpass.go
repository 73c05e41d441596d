package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"timeclock/agent/console"
)

// hashPasscode implements --hash-passcode: it reads a technician passcode
// (asked twice without echo on a terminal, else the first line of stdin)
// and prints its hash for console_passcode_hash in the config file.
func hashPasscode(in *os.File, out, prompt io.Writer) error {
	var pass string
	if fd := int(in.Fd()); term.IsTerminal(fd) {
		ask := func(p string) (string, error) {
			fmt.Fprint(prompt, p)
			b, err := term.ReadPassword(fd)
			fmt.Fprintln(prompt)
			return string(b), err
		}
		a, err := ask("technician passcode: ")
		if err != nil {
			return err
		}
		b, err := ask("again: ")
		if err != nil {
			return err
		}
		if a != b {
			return errors.New("the two passcodes differ")
		}
		pass = a
	} else {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		pass = strings.TrimRight(line, "\r\n")
	}
	h, err := console.HashPasscode(pass)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, h)
	return err
}
