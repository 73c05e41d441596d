package roster

import (
	"fmt"

	"timeclock/wire"
)

// Match says how a badge read matched the roster.
type Match uint8

// The matches.
const (
	// Unknown: no badge on the roster matches the read.
	Unknown Match = iota
	// Exact: a badge naming the read's whole key ("12:34567" for a card of
	// facility 12; a card number for a card that carries nothing more).
	Exact
	// ByCard: a badge with the read's card number alone ("34567" for a
	// card of facility 12), which no other employee names with a facility
	// code or as an EM4100 whole ID.
	ByCard
	// Ambiguous: only a badge with the card number alone matches, and
	// another employee names that card number with a facility code; the
	// clock does not guess and treats the badge as unknown. A roster the
	// clock accepts never has this (wire.BadgeIndex refuses it).
	Ambiguous
)

// Found reports whether the read names one employee.
func (m Match) Found() bool { return m == Exact || m == ByCard }

var matchNames = [...]string{"unknown", "exact", "card number", "ambiguous"}

func (m Match) String() string {
	if int(m) < len(matchNames) {
		return matchNames[m]
	}
	return fmt.Sprintf("Match(%d)", uint8(m))
}

// badgeIndex is the roster's badges as match looks them up.
type badgeIndex struct {
	byBadge map[string]int // normalized roster badge -> employee
	// byCard maps the card number of every badge with a facility code or
	// an EM4100 whole ID to its employee, or to -1 when several employees
	// name it.
	byCard map[string]int
}

// add indexes employee i's normalized badge.
func (x badgeIndex) add(i int, badge string) {
	x.byBadge[badge] = i
	b, err := wire.ParseBadge(badge)
	if err != nil || !b.Qualified() {
		return
	}
	if j, ok := x.byCard[b.Card]; ok && j != i {
		i = -1
	}
	x.byCard[b.Card] = i
}

// match is the badge rule, pure. key is the badge read in roster badge
// syntax: "12:34567" for a card with a facility code, "em:62E3086CED" for
// an EM4100 tag's whole ID, the card number for a card that carries
// nothing more (MIFARE UIDs, keyboard wedges). The badge naming the read's
// whole key wins; failing that, a badge with the read's card number alone
// (the Wiegand card number, the EM4100 printed serial) matches, but only
// when no other employee names that card number with a facility code or
// as an EM4100 whole ID: it would match that employee's card too, so the
// read is ambiguous, and not guessed. A badge with a facility code never
// matches a read with another facility code, nor a read without one.
func (x badgeIndex) match(key string) (int, Match) {
	rd, err := wire.ParseBadge(key)
	if err != nil {
		return -1, Unknown
	}
	if i, ok := x.byBadge[rd.String()]; ok && rd.Qualified() {
		return i, Exact
	}
	i, ok := x.byBadge[rd.Card]
	if !ok {
		return -1, Unknown
	}
	if j, named := x.byCard[rd.Card]; named && j != i {
		return -1, Ambiguous
	}
	if !rd.Qualified() {
		return i, Exact
	}
	return i, ByCard
}
