package console

// editEvent is what a byte completed.
type editEvent uint8

// Events Feed returns.
const (
	editNone      editEvent = iota
	editLine                // a line was entered; the text is returned with it
	editInterrupt           // Ctrl-C: the line was cancelled
)

func (e editEvent) String() string {
	switch e {
	case editNone:
		return "none"
	case editLine:
		return "line"
	case editInterrupt:
		return "interrupt"
	}
	return "event?"
}

// Terminal output the editor sends.
const (
	crlf      = "\r\n"
	rubout    = "\b \b"
	clearLine = "\r\x1b[K"
	clearScr  = "\x1b[H\x1b[2J"
	bell      = "\a"
)

type escState uint8

const (
	escNone  escState = iota
	escStart          // ESC seen
	escCSI            // ESC [ seen: parameters until a final byte
	escSS3            // ESC O seen: one more byte
)

// lineEditor is the console's line editor: it edits one line at a time and
// keeps the history. It turns the bytes a terminal (picocom, minicom,
// screen) sends into lines, and answers with the echo a terminal user
// expects.
//
// Keys: printable ASCII is inserted at the end of the line; Backspace (DEL
// or BS) deletes the last character, Ctrl-W the last word, Ctrl-U the whole
// line; Ctrl-C cancels the line; Ctrl-L redraws; Up and Down walk the
// history; CR, LF or CR LF (and telnet's CR NUL) end the line. Other escape
// sequences (arrows left and right, function keys, mouse reports) are read
// whole and ignored, as are other control characters and non-ASCII bytes.
//
// The lineEditor is a pure state machine: Feed takes one byte and returns what
// to write back and what happened. It never blocks and never grows beyond
// its line limit, whatever it is fed.
type lineEditor struct {
	max     int
	histMax int

	prompt string
	masked bool // passcode entry: no echo, no history
	buf    []byte
	rang   bool // the bell has sounded for this line's overflow

	hist    []string
	histPos int    // index into hist; len(hist) is the line being typed
	draft   []byte // the line being typed while walking the history

	esc    escState
	csiArg bool // the CSI sequence had parameters (so it is not a plain arrow)
	lastCR bool // the previous byte was CR: a following LF or NUL is part of it
}

// newLineEditor returns an editor for lines of at most maxLine bytes, keeping the last
// histMax lines.
func newLineEditor(maxLine, histMax int) *lineEditor {
	return &lineEditor{max: max(maxLine, 1), histMax: max(histMax, 0)}
}

// Start begins a new line with the prompt, appending the prompt to out. A
// masked line (a passcode) is not echoed and not kept in the history.
func (e *lineEditor) Start(out []byte, prompt string, masked bool) []byte {
	e.prompt, e.masked = prompt, masked
	e.buf = e.buf[:0]
	e.rang = false
	e.histPos = len(e.hist)
	e.draft = e.draft[:0]
	return append(out, prompt...)
}

// Text is the line typed so far.
func (e *lineEditor) Text() string { return string(e.buf) }

// History returns the remembered lines, oldest first.
func (e *lineEditor) History() []string { return append([]string(nil), e.hist...) }

// Feed takes one input byte, appends the echo to out and reports the event
// it completed. After editLine or editInterrupt the caller calls Start for the next
// line.
func (e *lineEditor) Feed(out []byte, c byte) ([]byte, editEvent, string) {
	if e.lastCR {
		e.lastCR = false
		if c == '\n' || c == 0 {
			return out, editNone, ""
		}
	}
	if e.esc != escNone {
		var handled bool
		out, handled = e.escape(out, c)
		if handled {
			return out, editNone, ""
		}
		// A control byte broke off the sequence: treat it as typed.
	}
	switch {
	case c >= ' ' && c < 0x7f:
		if len(e.buf) >= e.max {
			if !e.rang {
				e.rang = true
				out = append(out, bell...)
			}
			return out, editNone, ""
		}
		e.buf = append(e.buf, c)
		if !e.masked {
			out = append(out, c)
		}
	case c == 0x7f || c == '\b':
		out = e.rubout(out, 1)
	case c == 0x17: // Ctrl-W
		n := 0
		for i := len(e.buf) - 1; i >= 0 && e.buf[i] == ' '; i-- {
			n++
		}
		for i := len(e.buf) - 1 - n; i >= 0 && e.buf[i] != ' '; i-- {
			n++
		}
		out = e.rubout(out, n)
	case c == 0x15: // Ctrl-U
		e.buf = e.buf[:0]
		e.rang = false
		if !e.masked {
			out = e.redraw(out)
		}
	case c == 0x0c: // Ctrl-L
		out = append(out, clearScr...)
		out = append(out, e.prompt...)
		if !e.masked {
			out = append(out, e.buf...)
		}
	case c == 0x03: // Ctrl-C
		e.buf = e.buf[:0]
		out = append(out, "^C"+crlf...)
		return out, editInterrupt, ""
	case c == '\r' || c == '\n':
		e.lastCR = c == '\r'
		line := string(e.buf)
		e.buf = e.buf[:0]
		if !e.masked && line != "" && e.histMax > 0 && (len(e.hist) == 0 || e.hist[len(e.hist)-1] != line) {
			if len(e.hist) == e.histMax {
				copy(e.hist, e.hist[1:])
				e.hist = e.hist[:len(e.hist)-1]
			}
			e.hist = append(e.hist, line)
		}
		e.histPos = len(e.hist)
		out = append(out, crlf...)
		return out, editLine, line
	case c == 0x1b:
		e.esc, e.csiArg = escStart, false
	}
	// Anything else (Tab, other controls, bytes >= 0x80) is ignored.
	return out, editNone, ""
}

// escape continues an escape sequence with c. It returns false when c is a
// control character that ends the sequence without belonging to it.
func (e *lineEditor) escape(out []byte, c byte) ([]byte, bool) {
	if c == 0x1b { // a new sequence starts over the unfinished one
		e.esc, e.csiArg = escStart, false
		return out, true
	}
	if c < ' ' || c >= 0x7f {
		// Controls end the sequence and act as typed; DEL and high bytes
		// end it and are dropped. A long CSI costs no memory: its
		// parameters are not kept.
		e.esc = escNone
		return out, c >= 0x7f
	}
	switch e.esc {
	case escStart:
		switch c {
		case '[':
			e.esc = escCSI
		case 'O':
			e.esc = escSS3
		default: // Alt+key: dropped
			e.esc = escNone
		}
	case escSS3:
		e.esc = escNone
		out = e.arrow(out, c)
	case escCSI:
		switch {
		case c >= 0x30 && c <= 0x3f, c >= 0x20 && c <= 0x2f:
			e.csiArg = true
		default: // final byte
			e.esc = escNone
			if !e.csiArg {
				out = e.arrow(out, c)
			}
		}
	}
	return out, true
}

// arrow handles the final byte of a cursor key: A is Up, B is Down; the
// rest (Left, Right, Home, End) are ignored because the cursor stays at the
// end of the line.
func (e *lineEditor) arrow(out []byte, c byte) []byte {
	if e.masked || len(e.hist) == 0 {
		return out
	}
	switch c {
	case 'A':
		if e.histPos == 0 {
			return append(out, bell...)
		}
		if e.histPos == len(e.hist) {
			e.draft = append(e.draft[:0], e.buf...)
		}
		e.histPos--
		e.buf = append(e.buf[:0], e.hist[e.histPos]...)
	case 'B':
		if e.histPos == len(e.hist) {
			return append(out, bell...)
		}
		e.histPos++
		if e.histPos == len(e.hist) {
			e.buf = append(e.buf[:0], e.draft...)
		} else {
			e.buf = append(e.buf[:0], e.hist[e.histPos]...)
		}
	default:
		return out
	}
	if len(e.buf) > e.max {
		e.buf = e.buf[:e.max]
	}
	e.rang = false
	return e.redraw(out)
}

func (e *lineEditor) rubout(out []byte, n int) []byte {
	n = min(n, len(e.buf))
	e.buf = e.buf[:len(e.buf)-n]
	e.rang = false
	if !e.masked {
		for range n {
			out = append(out, rubout...)
		}
	}
	return out
}

// redraw rewrites the prompt and line in place.
func (e *lineEditor) redraw(out []byte) []byte {
	out = append(out, clearLine...)
	out = append(out, e.prompt...)
	return append(out, e.buf...)
}
