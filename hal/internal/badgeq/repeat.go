package badgeq

import "time"

// RepeatFilter suppresses repeated reads of one card: readers that see a
// card held over them report it again and again (an EM4100 module several
// times a second), and a person means one punch.
//
// It passes a card once while it keeps being seen: a read is fresh
// when the card differs from the last one or the last sighting is at least
// Window ago. Every sighting, fresh or not, restarts the window. Not safe
// for concurrent use.
type RepeatFilter struct {
	Window time.Duration

	last string
	seen time.Time
}

// Fresh records a sighting of card at now and reports whether it is a new
// read.
func (f *RepeatFilter) Fresh(card string, now time.Time) bool {
	fresh := card != f.last || f.seen.IsZero() || now.Sub(f.seen) >= f.Window || now.Before(f.seen)
	f.last, f.seen = card, now
	return fresh
}
