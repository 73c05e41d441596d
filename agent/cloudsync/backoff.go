package cloudsync

import "time"

// Rand is the randomness the backoff draws from; *math/rand/v2.Rand is one.
type Rand interface {
	Float64() float64 // in [0, 1)
}

// backoff is exponential backoff with full jitter: the n-th wait (n from 0)
// is uniform in [0, min(max, min*2^n)). Full jitter spreads a fleet of
// clocks that lost the cloud at the same moment, so they do not all come
// back at the same moment either.
type backoff struct {
	min, max time.Duration
	rnd      Rand
	n        int
}

// ceiling is the upper bound of the n-th wait.
func (b *backoff) ceiling(n int) time.Duration {
	c := b.min
	for range n {
		if c >= b.max/2 {
			return b.max
		}
		c *= 2
	}
	return min(c, b.max)
}

// next returns the next wait and counts the attempt.
func (b *backoff) next() time.Duration {
	c := b.ceiling(b.n)
	b.n++
	return time.Duration(b.rnd.Float64() * float64(c))
}

// reset starts over after a connection that worked.
func (b *backoff) reset() { b.n = 0 }
