package hal

import "testing"

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
