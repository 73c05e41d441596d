package console

import "time"

// freeTries is how many wrong passcodes in a row are allowed before the
// console locks.
const freeTries = 5

// lockout counts wrong passcodes and says how long the console stays
// locked. The fifth wrong passcode in a row locks it for base; every
// further one, tried after the lock ends, locks it twice as long as the
// last, up to max. A right passcode starts the count again. It is pure:
// the caller passes the time.
type lockout struct {
	base, max time.Duration
	failures  int       // wrong passcodes in a row
	until     time.Time // locked before this
}

// remaining is how long the console stays locked at now; 0 when open.
func (l *lockout) remaining(now time.Time) time.Duration {
	if d := l.until.Sub(now); d > 0 {
		return d
	}
	return 0
}

// fail records a wrong passcode at now and returns the lock it starts (0
// for none).
func (l *lockout) fail(now time.Time) time.Duration {
	l.failures++
	if l.failures < freeTries {
		return 0
	}
	d := l.base
	for i := freeTries; i < l.failures && d < l.max; i++ {
		d *= 2
	}
	d = min(d, l.max)
	l.until = now.Add(d)
	return d
}

// succeed records a right passcode.
func (l *lockout) succeed() { l.failures, l.until = 0, time.Time{} }
