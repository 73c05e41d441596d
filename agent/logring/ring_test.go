package logring

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestIsSecretKey(t *testing.T) {
	for _, tc := range []struct {
		key    string
		secret bool
	}{
		{"pin", true}, {"PIN", true}, {"pinCode", true}, {"auth_code", true},
		{"passcode", true}, {"passcode_hash", true}, {"console-passcode-hash", true},
		{"password", true}, {"api_key", true}, {"privateKey", true}, {"token", true},
		{"client_secret", true}, {"key", true}, {"Code", true},
		{"keypad", false}, {"mapping", false}, {"spinner", false}, {"badge", false},
		{"state", false}, {"monkey", false}, {"err", false}, {"", false},
	} {
		if got := IsSecretKey(tc.key); got != tc.secret {
			t.Errorf("IsSecretKey(%q) = %v, want %v", tc.key, got, tc.secret)
		}
	}
}

// Secrets never reach either the ring or the main log, however they are
// attached: direct attributes, With, groups, a secret-named group.
func TestSecretsNeverLogged(t *testing.T) {
	const secret = "918273"
	var main bytes.Buffer
	ring := New(50)
	log := slog.New(Tee(
		slog.NewTextHandler(&main, &slog.HandlerOptions{ReplaceAttr: Redact}),
		ring.Handler(slog.LevelInfo),
	))
	log.Info("pin entered", "pin", secret, "employee", "e42")
	log.With("auth_code", secret).Warn("activation failed")
	log.WithGroup("login").Info("attempt", "passcode", secret)
	log.Info("credentials", slog.Group("secret", "value", secret))
	log.Info("keys", "api_key", secret, "token", secret, "password", secret)

	for name, out := range map[string]string{"main log": main.String(), "ring": strings.Join(ring.Tail(0), "\n")} {
		if strings.Contains(out, secret) {
			t.Errorf("%s holds the secret:\n%s", name, out)
		}
		if strings.Count(out, Redacted) < 7 {
			t.Errorf("%s: want 7 redactions:\n%s", name, out)
		}
		if !strings.Contains(out, "employee=e42") {
			t.Errorf("%s lost a harmless attribute:\n%s", name, out)
		}
	}
}

func TestRingKeepsLastLines(t *testing.T) {
	r := New(3)
	if got := r.Tail(5); len(got) != 0 {
		t.Fatalf("empty ring tail = %q", got)
	}
	for i := 1; i <= 5; i++ {
		r.Add(fmt.Sprintf("line %d\n", i))
	}
	if got := strings.Join(r.Tail(0), ","); got != "line 3,line 4,line 5" {
		t.Fatalf("tail = %q", got)
	}
	if got := strings.Join(r.Tail(2), ","); got != "line 4,line 5" {
		t.Fatalf("tail 2 = %q", got)
	}
	r.Add(strings.Repeat("x", 2*MaxLine))
	if got := r.Tail(1)[0]; len(got) != MaxLine || !strings.HasSuffix(got, "...") {
		t.Fatalf("long line stored as %d bytes", len(got))
	}
}

func TestTeeLevels(t *testing.T) {
	var main bytes.Buffer
	ring := New(10)
	log := slog.New(Tee(
		slog.NewTextHandler(&main, &slog.HandlerOptions{Level: slog.LevelWarn}),
		ring.Handler(slog.LevelDebug),
	))
	log.Debug("detail")
	log.Warn("trouble")
	if strings.Contains(main.String(), "detail") || !strings.Contains(main.String(), "trouble") {
		t.Errorf("main log = %q", main.String())
	}
	if got := ring.Tail(0); len(got) != 2 || !strings.Contains(got[0], "msg=detail") {
		t.Errorf("ring = %q", got)
	}
	if !strings.HasPrefix(ring.Tail(1)[0], "time=20") || strings.Contains(ring.Tail(1)[0], ".") && strings.Contains(strings.Fields(ring.Tail(1)[0])[0], ".") {
		t.Errorf("ring time not to the second: %q", ring.Tail(1)[0])
	}
}
