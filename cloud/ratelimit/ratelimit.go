// Package ratelimit is token buckets keyed by a string (a source address, a
// device serial), on an injected clock so tests can move time.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"timeclock/clock"
)

// Rate is a bucket's shape: Burst tokens at most, one more every Every.
type Rate struct {
	Burst int
	Every time.Duration
}

// maxKeys bounds memory: past it, full buckets (the idle keys) are dropped.
const maxKeys = 10000

// Limiter holds one bucket per key.
type Limiter struct {
	clk  clock.Clock
	rate Rate

	mu      sync.Mutex
	buckets map[string]*bucket // guarded by mu
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a limiter of rate on clk.
func New(clk clock.Clock, rate Rate) *Limiter {
	if rate.Burst < 1 {
		rate.Burst = 1
	}
	if rate.Every <= 0 {
		rate.Every = time.Second
	}
	return &Limiter{clk: clk, rate: rate, buckets: map[string]*bucket{}}
}

// Allow takes a token for key. If none is left it takes nothing and says
// how long until one is.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refillLocked(key)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, l.waitLocked(b)
}

// Check reports whether key has a token, without taking it.
func (l *Limiter) Check(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refillLocked(key)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, l.waitLocked(b)
}

// Take takes a token for key if there is one; it is for costs counted
// after the fact (a wrong company ID), where Check came first.
func (l *Limiter) Take(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refillLocked(key)
	b.tokens = math.Max(0, b.tokens-1)
}

func (l *Limiter) refillLocked(key string) *bucket {
	now := l.clk.Now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxKeys {
			l.pruneLocked(now)
		}
		b = &bucket{tokens: float64(l.rate.Burst), last: now}
		l.buckets[key] = b
		return b
	}
	// A clock set backwards refills nothing rather than draining.
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(float64(l.rate.Burst), b.tokens+float64(el)/float64(l.rate.Every))
	}
	b.last = now
	return b
}

func (l *Limiter) waitLocked(b *bucket) time.Duration {
	d := time.Duration((1 - b.tokens) * float64(l.rate.Every))
	// Round up to whole seconds: callers report seconds (Retry-After).
	return (d + time.Second - 1).Truncate(time.Second)
}

func (l *Limiter) pruneLocked(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.last))/float64(l.rate.Every) >= float64(l.rate.Burst) {
			delete(l.buckets, k)
		}
	}
}
