package onboarding

import (
	"strings"
)

// wrap breaks text into lines of at most cols characters at spaces; a word
// longer than a line is cut.
func wrap(text string, cols int) []string {
	var out []string
	line := []rune{}
	flush := func() {
		if len(line) > 0 {
			out = append(out, string(line))
			line = line[:0]
		}
	}
	for _, w := range strings.Fields(text) {
		rw := []rune(w)
		for len(rw) > cols {
			flush()
			out = append(out, string(rw[:cols]))
			rw = rw[cols:]
		}
		switch {
		case len(line) == 0:
			line = append(line, rw...)
		case len(line)+1+len(rw) <= cols:
			line = append(append(line, ' '), rw...)
		default:
			flush()
			line = append(line, rw...)
		}
	}
	flush()
	return out
}

// cut shortens s to cols characters.
func cut(s string, cols int) string {
	r := []rune(s)
	if len(r) > cols {
		return string(r[:cols])
	}
	return s
}

// page is a screen of a title, sentences and a key hint. On a display of
// three or more lines the title and the key hint stay put and the sentences
// scroll between them; on two lines the title stays and the second line
// scrolls through the sentences and then the key hint.
type page struct {
	title string
	text  []string // sentences, wrapped to the display
	keys  string
}

// body is the title's overflow, the wrapped sentences and, on small
// displays, the key hint: the lines that scroll.
func (p page) body(cols, rows int) (title string, body []string) {
	tl := wrap(p.title, cols)
	if len(tl) == 0 {
		tl = []string{""}
	}
	body = append(body, tl[1:]...)
	for _, s := range p.text {
		body = append(body, wrap(s, cols)...)
	}
	if rows < 3 && p.keys != "" {
		body = append(body, wrap(p.keys, cols)...)
	}
	return tl[0], body
}

// visible is how many scrolling lines are shown at once.
func visible(rows int) int {
	if rows >= 3 {
		return rows - 2
	}
	return max(rows-1, 1)
}

// maxOffset is the last scroll position.
func (p page) maxOffset(cols, rows int) int {
	_, body := p.body(cols, rows)
	return max(len(body)-visible(rows), 0)
}

// render lays the page out from scroll position off.
func (p page) render(cols, rows, off int) []string {
	title, body := p.body(cols, rows)
	off = min(max(off, 0), p.maxOffset(cols, rows))
	n := visible(rows)
	shown := body[off:min(off+n, len(body))]
	if rows < 2 {
		return []string{cut(title, cols)}
	}
	out := []string{title}
	out = append(out, shown...)
	if rows >= 3 {
		for len(out) < rows-1 {
			out = append(out, "")
		}
		keys := p.keys
		if off < p.maxOffset(cols, rows) {
			if k := keys + " Dn=more"; len(k) <= cols {
				keys = k
			}
		}
		out = append(out, cut(keys, cols))
	}
	return out
}
