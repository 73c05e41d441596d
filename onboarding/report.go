package onboarding

import (
	"context"
	"fmt"
	"io"
	"strings"

	"timeclock/onboarding/netcheck"
)

// NetCheck runs the network check against the cloud and writes the report
// (WriteReport), for the console. It fails only when the config names no
// usable cloud.
func (s Setup) NetCheck(ctx context.Context, out io.Writer) error {
	target, err := s.Target()
	if err != nil {
		return err
	}
	WriteReport(out, s.Checker(target).Run(ctx))
	return nil
}

// WriteReport writes a network check report as text: the interface, a
// line per step, and the advice for the first problem.
func WriteReport(w io.Writer, rep netcheck.Report) {
	iface := rep.Iface
	if iface == "" {
		iface = "none"
	}
	fmt.Fprintf(w, "interface: %s\n", iface)
	for _, s := range rep.Steps {
		fmt.Fprintf(w, "%s: %s", s.Step, s.Outcome)
		if s.Detail != "" {
			fmt.Fprintf(w, " (%s)", s.Detail)
		}
		fmt.Fprintln(w)
	}
	if rep.LANAdvice {
		a := netcheck.LANAdvice(rep.Iface)
		fmt.Fprintf(w, "advice: %s: %s\n", a.Title, strings.Join(a.Text, " "))
	}
	if a, ok := rep.Advice(); ok {
		fmt.Fprintf(w, "problem: %s: %s\n", a.Title, strings.Join(a.Text, " "))
	} else {
		fmt.Fprintln(w, "result: the network is fine for the cloud")
	}
}
