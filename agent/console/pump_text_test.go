package console

import "testing"

func TestTerminalText(t *testing.T) {
	for in, want := range map[string]string{
		"a\nb":            "a\r\nb",
		"tab\there":       "tab\there",
		"esc\x1b[2Jx":     "esc?[2Jx",
		"bell\a":          "bell?",
		"cr\r\n":          "cr\r\n",
		"caf\xc3\xa9":     "caf\xc3\xa9",
		"bad\xff":         "bad?",
		"c1\xc2\x9b31m":   "c1?31m",
		"del\x7f":         "del?",
		"Ann O'Neil née ": "Ann O'Neil née ",
	} {
		if got := string(terminalText([]byte(in))); got != want {
			t.Errorf("TerminalText(%q) = %q, want %q", in, got, want)
		}
	}
}
