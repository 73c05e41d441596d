package enroll

import (
	"testing"
	"time"

	"timeclock/cloud/store"
	"timeclock/wire"
)

var t0 = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

func sent(state store.SessionState, ago time.Duration) *store.Session {
	s := &store.Session{ID: "s1", State: state, SentAt: t0.Add(-ago), ExpiresAt: t0.Add(-ago + 10*time.Minute)}
	return s
}

func TestPlanCode(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		name   string
		prev   *store.Session
		resend bool
		act    codeAction
		err    wire.ErrorCode
		retry  int
	}{
		{"first request", nil, false, actNew, "", 0},
		{"repeat within a minute reuses", sent(store.SessionCodeSent, 20*time.Second), false, actReuse, "", 0},
		{"repeat after a minute sends a new code", sent(store.SessionCodeSent, 61*time.Second), false, actNew, "", 0},
		{"repeat after expiry", sent(store.SessionCodeSent, 11*time.Minute), false, actNew, "", 0},
		{"after burn, within a minute", sent(store.SessionBurned, 30*time.Second), false, actRefuse, wire.ErrResendTooSoon, 30},
		{"after burn, after a minute", sent(store.SessionBurned, 2*time.Minute), false, actNew, "", 0},
		{"after activation (onboarding again)", sent(store.SessionActivated, 5*time.Second), false, actNew, "", 0},
		{"after a failed mail", sent(store.SessionMailFailed, 5*time.Second), false, actNew, "", 0},
		{"resend without session", nil, true, actRefuse, wire.ErrNoSession, 0},
		{"resend too soon", sent(store.SessionCodeSent, 59*time.Second+time.Millisecond), true, actRefuse, wire.ErrResendTooSoon, 1},
		{"resend at 60 s", sent(store.SessionCodeSent, 60*time.Second), true, actReissue, "", 0},
		{"resend after burn", sent(store.SessionBurned, 90*time.Second), true, actReissue, "", 0},
		{"resend after expiry", sent(store.SessionCodeSent, time.Hour), true, actReissue, "", 0},
		{"resend of an activated session", sent(store.SessionActivated, time.Hour), true, actRefuse, wire.ErrNoSession, 0},
		{"resend of a replaced session", sent(store.SessionReplaced, time.Hour), true, actRefuse, wire.ErrNoSession, 0},
		{"resend after a failed mail needs no wait", sent(store.SessionMailFailed, time.Second), true, actReissue, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			act, e := planCode(tc.prev, tc.resend, t0, cfg)
			if act != tc.act {
				t.Errorf("action %v, want %v", act, tc.act)
			}
			switch {
			case tc.err == "" && e != nil:
				t.Errorf("error %v", e)
			case tc.err != "" && (e == nil || e.Code != tc.err):
				t.Errorf("error %v, want %s", e, tc.err)
			case tc.err != "" && e.RetryAfter != tc.retry:
				t.Errorf("retry_after %d, want %d", e.RetryAfter, tc.retry)
			}
		})
	}
}

func TestCheckCode(t *testing.T) {
	cfg := DefaultConfig()
	salt := []byte("0123456789abcdef")
	base := store.Session{ID: "s1", State: store.SessionCodeSent, CodeSalt: salt, CodeHash: hashCode(salt, "123456"),
		SentAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	with := func(f func(*store.Session)) store.Session { s := base; f(&s); return s }
	for _, tc := range []struct {
		name      string
		s         store.Session
		code      string
		at        time.Time
		err       wire.ErrorCode
		triesLeft int
		state     store.SessionState
		tries     int
	}{
		{"right code", base, "123456", t0.Add(time.Minute), "", 0, store.SessionActivated, 0},
		{"first wrong code", base, "654321", t0, wire.ErrWrongCode, 4, store.SessionCodeSent, 1},
		{"fourth wrong code", with(func(s *store.Session) { s.WrongTries = 3 }), "000000", t0, wire.ErrWrongCode, 1, store.SessionCodeSent, 4},
		{"fifth wrong code burns", with(func(s *store.Session) { s.WrongTries = 4 }), "000000", t0, wire.ErrCodeBurned, 0, store.SessionBurned, 5},
		{"right code after burning", with(func(s *store.Session) { s.State, s.WrongTries = store.SessionBurned, 5 }), "123456", t0, wire.ErrCodeBurned, 0, store.SessionBurned, 5},
		{"right code, a moment before expiry", base, "123456", t0.Add(10*time.Minute - time.Nanosecond), "", 0, store.SessionActivated, 0},
		{"right code at expiry", base, "123456", t0.Add(10 * time.Minute), wire.ErrCodeExpired, 0, store.SessionCodeSent, 0},
		{"wrong code after expiry costs no try", base, "000000", t0.Add(time.Hour), wire.ErrCodeExpired, 0, store.SessionCodeSent, 0},
		{"used code", with(func(s *store.Session) { s.State = store.SessionActivated }), "123456", t0, wire.ErrNoSession, 0, store.SessionActivated, 0},
		{"replaced code", with(func(s *store.Session) { s.State = store.SessionReplaced }), "123456", t0, wire.ErrNoSession, 0, store.SessionReplaced, 0},
		{"empty code", base, "", t0, wire.ErrWrongCode, 4, store.SessionCodeSent, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, e := checkCode(tc.s, tc.code, tc.at, cfg)
			switch {
			case tc.err == "" && e != nil:
				t.Fatalf("error %v", e)
			case tc.err != "" && (e == nil || e.Code != tc.err):
				t.Fatalf("error %v, want %s", e, tc.err)
			}
			if e != nil && e.TriesLeft != tc.triesLeft {
				t.Errorf("tries_left %d, want %d", e.TriesLeft, tc.triesLeft)
			}
			if got.State != tc.state || got.WrongTries != tc.tries {
				t.Errorf("session %v with %d wrong tries, want %v with %d", got.State, got.WrongTries, tc.state, tc.tries)
			}
		})
	}
}

func TestRandomDigits(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		c, err := randomDigits(CodeDigits)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 6 {
			t.Fatalf("code %q is not 6 digits", c)
		}
		for _, r := range c {
			if r < '0' || r > '9' {
				t.Fatalf("code %q has a non-digit", c)
			}
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("only %d distinct codes in 200", len(seen))
	}
}
