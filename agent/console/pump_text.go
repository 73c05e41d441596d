package console

import (
	"context"
	"io"
	"unicode/utf8"
)

// terminalText turns command output into what a terminal should get: "\n"
// becomes "\r\n" (the port is raw), and control characters, C1 controls
// and invalid UTF-8 become '?', so nothing a command prints (a log line, a
// name from the cloud, a badge number) can drive the technician's terminal.
func terminalText(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/16)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == '\n':
			out = append(out, '\r', '\n')
		case r == '\r':
		case r == '\t':
			out = append(out, '\t')
		case r < ' ', r == 0x7f, r >= 0x80 && r < 0xa0, r == utf8.RuneError && n == 1:
			out = append(out, '?')
		default:
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

// TextWriter returns a command's output: terminal text, queued on the port,
// waiting for room while the port is slow. It fails once ctx is done; the
// console passes the session's context, not the command's, so an
// interrupted command can still say how it ended.
func (p *pump) TextWriter(ctx context.Context) io.Writer { return textWriter{ctx, p} }

type textWriter struct {
	ctx context.Context
	p   *pump
}

func (w textWriter) Write(b []byte) (int, error) {
	if err := w.p.WriteWait(w.ctx, terminalText(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}
