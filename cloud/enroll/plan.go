package enroll

import (
	"crypto/sha256"
	"crypto/subtle"
	"time"

	"timeclock/cloud/store"
	"timeclock/wire"
)

// codeAction is what a code request leads to.
type codeAction uint8

const (
	// actRefuse: answer the plan's error, change nothing.
	actRefuse codeAction = iota
	// actNew: a new session with a new code; an earlier one is replaced.
	actNew
	// actReissue: a new code in the same session (a resend); the old code
	// stops working.
	actReissue
	// actReuse: the code just sent still stands; answer the same session
	// again without mailing (a clock that restarted and asks again).
	actReuse
)

func (a codeAction) String() string {
	return [...]string{"refuse", "new", "reissue", "reuse"}[a]
}

// planCode decides a code request. prev is the session the request is about
// (by ID for a resend, the clock's newest otherwise), nil when none.
func planCode(prev *store.Session, resend bool, now time.Time, cfg Config) (codeAction, *wire.Error) {
	if resend {
		if prev == nil {
			return actRefuse, apiError(wire.ErrNoSession, "no onboarding session to resend for; ask for a new code")
		}
		switch prev.State {
		case store.SessionActivated:
			return actRefuse, apiError(wire.ErrNoSession, "this onboarding session already activated the clock")
		case store.SessionReplaced:
			return actRefuse, apiError(wire.ErrNoSession, "a newer code was sent for this clock; use that session")
		case store.SessionMailFailed:
			return actReissue, nil // nothing reached anyone: no need to wait
		}
		if wait := prev.SentAt.Add(cfg.ResendAfter).Sub(now); wait > 0 {
			return actRefuse, tooSoon(wait)
		}
		return actReissue, nil
	}
	if prev == nil {
		return actNew, nil
	}
	switch prev.State {
	case store.SessionActivated, store.SessionReplaced, store.SessionMailFailed:
		return actNew, nil
	}
	wait := prev.SentAt.Add(cfg.ResendAfter).Sub(now)
	switch {
	case wait <= 0:
		return actNew, nil
	case prev.State == store.SessionCodeSent && now.Before(prev.ExpiresAt):
		return actReuse, nil
	default:
		return actRefuse, tooSoon(wait)
	}
}

func tooSoon(wait time.Duration) *wire.Error {
	e := apiError(wire.ErrResendTooSoon, "a new code can be sent in %d seconds", seconds(wait))
	e.RetryAfter = seconds(wait)
	return e
}

// checkCode decides an activation try and returns the session as it must be
// stored (with the wrong try counted, burned, or activated).
func checkCode(s store.Session, code string, now time.Time, cfg Config) (store.Session, *wire.Error) {
	switch s.State {
	case store.SessionActivated:
		return s, apiError(wire.ErrNoSession, "this code was already used; the clock is activated")
	case store.SessionReplaced:
		return s, apiError(wire.ErrNoSession, "a newer code was sent for this clock; enter that one")
	case store.SessionMailFailed:
		return s, apiError(wire.ErrNoSession, "the code mail could not be sent; ask for a new code")
	case store.SessionBurned:
		return s, burned(cfg)
	}
	if !now.Before(s.ExpiresAt) {
		return s, apiError(wire.ErrCodeExpired, "the code expired %d minutes after it was sent; ask for a new code", int(cfg.CodeTTL/time.Minute))
	}
	if !codeMatches(s, code) {
		s.WrongTries++
		if s.WrongTries >= cfg.MaxWrongTries {
			s.State = store.SessionBurned
			return s, burned(cfg)
		}
		e := apiError(wire.ErrWrongCode, "wrong code")
		e.TriesLeft = cfg.MaxWrongTries - s.WrongTries
		return s, e
	}
	s.State = store.SessionActivated
	return s, nil
}

func burned(cfg Config) *wire.Error {
	return apiError(wire.ErrCodeBurned, "%d wrong tries: this code no longer works; ask for a new code", cfg.MaxWrongTries)
}

// hashCode is how a code is stored: SHA-256 over a per-session random salt
// and the code. A code lives 10 minutes and 5 tries, so this keeps it out of
// the store and its backups without a slow hash.
func hashCode(salt []byte, code string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(code))
	return h.Sum(nil)
}

func codeMatches(s store.Session, code string) bool {
	return subtle.ConstantTimeCompare(hashCode(s.CodeSalt, code), s.CodeHash) == 1
}
