package console

import (
	"fmt"
	"strings"
	"testing"
)

// typed feeds input to e, starting a new line after each event the way the
// console does, and returns the events (as "line:TEXT" or "interrupt") and
// everything echoed.
func typed(e *lineEditor, input string, masked bool) ([]string, string) {
	var evs []string
	out := e.Start(nil, "> ", masked)
	for i := 0; i < len(input); i++ {
		var ev editEvent
		var line string
		out, ev, line = e.Feed(out, input[i])
		switch ev {
		case editLine:
			evs = append(evs, "line:"+line)
			out = e.Start(out, "> ", masked)
		case editInterrupt:
			evs = append(evs, "interrupt")
			out = e.Start(out, "> ", masked)
		}
	}
	return evs, string(out)
}

func TestEditor(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		echo     string // when set, the exact echo
	}{
		{"cr", "abc\r", []string{"line:abc"}, "> abc\r\n> "},
		{"crlf", "abc\r\ndef\r\n", []string{"line:abc", "line:def"}, ""},
		{"lf", "a\nb\n", []string{"line:a", "line:b"}, ""},
		{"cr nul", "a\r\x00b\r", []string{"line:a", "line:b"}, ""},
		{"empty lines after crlf", "a\r\n\r\n", []string{"line:a", "line:"}, ""},
		{"lf cr is two lines", "a\n\r", []string{"line:a", "line:"}, ""},
		{"del", "abx\x7fc\r", []string{"line:abc"}, "> abx\b \bc\r\n> "},
		{"bs", "abx\bc\r", []string{"line:abc"}, ""},
		{"backspace on empty", "\x7f\x7fa\r", []string{"line:a"}, "> a\r\n> "},
		{"ctrl-u", "abc\x15de\r", []string{"line:de"}, "> abc\r\x1b[K> de\r\n> "},
		{"ctrl-w", "foo bar \x17baz\r", []string{"line:foo baz"}, ""},
		{"ctrl-c", "abc\x03d\r", []string{"interrupt", "line:d"}, "> abc^C\r\n> d\r\n> "},
		{"escape sequences ignored", "a\x1b[1;5Cb\x1b[3~c\x1bxd\x1bOPe\x1b[200~f\r", []string{"line:abcdef"}, ""},
		{"long csi swallowed", "a\x1b[" + strings.Repeat("9", 100) + "mb\r", []string{"line:ab"}, ""},
		{"control breaks escape", "ab\x1b\r", []string{"line:ab"}, ""},
		{"non-ascii dropped", "\xc3\xa9a\xff\r", []string{"line:a"}, ""},
		{"tab ignored", "a\tb\r", []string{"line:ab"}, ""},
		{"ctrl-l redraws", "ab\x0c\r", []string{"line:ab"}, "> ab\x1b[H\x1b[2J> ab\r\n> "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, echo := typed(newLineEditor(64, 10), tc.in, false)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("events %q, want %q", got, tc.want)
			}
			if tc.echo != "" && echo != tc.echo {
				t.Errorf("echo %q, want %q", echo, tc.echo)
			}
		})
	}
}

func TestHistory(t *testing.T) {
	e := newLineEditor(64, 3)
	typed(e, "one\rtwo\rtwo\r\rthree\r", false)
	if h := strings.Join(e.History(), ","); h != "one,two,three" {
		t.Fatalf("history %q (empty and repeated lines are not kept)", h)
	}
	for _, tc := range []struct{ in, want string }{
		{"\x1b[A\r", "three"},
		{"\x1b[A\x1b[A\r", "two"},
		{"\x1bOA\x1bOA\x1bOA\r", "one"},
		{"\x1b[A\x1b[A\x1b[A\x1b[A\r", "one"}, // stops at the oldest
		{"dra\x1b[A\x1b[B\r", "dra"},          // Down returns to the draft
		{"\x1b[A\x1b[Bx\r", "x"},
		{"\x1b[Ax\r", "threex"}, // an edited history line is a new line
	} {
		e := newLineEditor(64, 3)
		typed(e, "one\rtwo\rthree\r", false)
		got, _ := typed(e, tc.in, false)
		if len(got) != 1 || got[0] != "line:"+tc.want {
			t.Errorf("%q gave %q, want line:%s", tc.in, got, tc.want)
		}
	}
	typed(e, "four\r", false)
	if h := strings.Join(e.History(), ","); h != "two,three,four" {
		t.Errorf("history %q, want the last 3 lines", h)
	}
}

func TestUpRedrawsLine(t *testing.T) {
	e := newLineEditor(64, 5)
	typed(e, "status\r", false)
	_, echo := typed(e, "xy\x1b[A", false)
	if !strings.HasSuffix(echo, "\r\x1b[K> status") {
		t.Fatalf("echo %q: want the line redrawn with the history entry", echo)
	}
}

func TestEditorLongLine(t *testing.T) {
	e := newLineEditor(10, 5)
	got, echo := typed(e, strings.Repeat("x", 25)+"\r", false)
	if len(got) != 1 || got[0] != "line:"+strings.Repeat("x", 10) {
		t.Fatalf("events %q", got)
	}
	if strings.Count(echo, "\a") != 1 {
		t.Errorf("echo %q: want one bell for the overflow", echo)
	}
}

func TestMaskedNeverEchoes(t *testing.T) {
	e := newLineEditor(64, 5)
	typed(e, "status\r", false)
	got, echo := typed(e, "s3cr3t\x7fT\x1b[A\r", true)
	if len(got) != 1 || got[0] != "line:s3cr3T" {
		t.Fatalf("events %q", got)
	}
	if echo != "> \r\n> " {
		t.Fatalf("masked echo %q", echo)
	}
	if h := e.History(); len(h) != 1 {
		t.Fatalf("a masked line went into the history: %q", h)
	}
}

// checkEcho fails when out holds anything a well-behaved editor would not
// send: raw control bytes other than CR, LF, BS and BEL, or escape
// sequences other than its own.
func checkEcho(t *testing.T, out []byte, masked bool) {
	s := string(out)
	for _, tok := range []string{clearScr, clearLine, crlf, rubout, bell, "^C", "> "} {
		s = strings.ReplaceAll(s, tok, "")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c >= 0x7f {
			t.Fatalf("echo has byte %#x: %q", c, out)
		}
		if masked {
			t.Fatalf("masked input echoed %q", out)
		}
	}
}

func FuzzEditor(f *testing.F) {
	f.Add([]byte("status\r\n"), false)
	f.Add([]byte("ab\x7f\x08\x15\x17\x03\x1b[A\x1b[B\x1bOA\x1b[1;5C\r\x00\n"), false)
	f.Add([]byte("s3cret\r"), true)
	f.Add([]byte("\x1b\x1b\x1b[[[\xff\xfe\r\r\n\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, masked bool) {
		e := newLineEditor(16, 4)
		out := e.Start(nil, "> ", masked)
		for _, c := range data {
			var ev editEvent
			var line string
			out, ev, line = e.Feed(out, c)
			if len(e.Text()) > 16 || len(line) > 16 {
				t.Fatalf("line grew to %d/%d bytes", len(e.Text()), len(line))
			}
			for i := 0; i < len(line); i++ {
				if line[i] < ' ' || line[i] >= 0x7f {
					t.Fatalf("line %q holds a non-printable byte", line)
				}
			}
			if ev != editNone {
				out = e.Start(out, "> ", masked)
			}
		}
		checkEcho(t, out, masked)
		if len(e.History()) > 4 {
			t.Fatalf("history grew to %d", len(e.History()))
		}
	})
}

func Example_lineEditor() {
	e := newLineEditor(80, 10)
	out := e.Start(nil, "timeclock> ", false)
	for _, c := range []byte("statx\x7fus\r") {
		var ev editEvent
		var line string
		if out, ev, line = e.Feed(out, c); ev == editLine {
			fmt.Printf("line %q\n", line)
		}
	}
	fmt.Printf("echo %q\n", out)
	// Output:
	// line "status"
	// echo "timeclock> statx\b \bus\r\n"
}
