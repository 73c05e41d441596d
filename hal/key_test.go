package hal

import (
	"strings"
	"testing"
)

func TestParseKeyRoundTrip(t *testing.T) {
	for _, k := range Keys() {
		got, err := ParseKey(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKey(%q) = %v, %v; want %v", k.String(), got, err, k)
		}
	}
}

func TestParseKeyRejects(t *testing.T) {
	for _, s := range []string{"", "10", "f5", "enterx", "a"} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
}

func TestParseKeyCase(t *testing.T) {
	if k, err := ParseKey(" ENTER "); err != nil || k != KeyEnter {
		t.Fatalf("ParseKey(ENTER) = %v, %v", k, err)
	}
}

// FuzzParseKey: a name parses to a key exactly when, trimmed and in lower
// case, it is that key's name; the key's own name parses back to it.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"0", "9", "*", "#", "enter", " ENTER ", "clear", "f1", "F4", "f5", "up", "down", "", "entér", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if int(k) >= len(Keys()) {
			t.Fatalf("ParseKey(%q) = %d, not a key", s, k)
		}
		if name := k.String(); name != strings.ToLower(strings.TrimSpace(s)) {
			t.Fatalf("ParseKey(%q) = %s", s, name)
		}
		if again, err := ParseKey(k.String()); err != nil || again != k {
			t.Fatalf("%s does not parse back: %v %v", k, again, err)
		}
	})
}
