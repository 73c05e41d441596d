package wire

import (
	"fmt"
	"strconv"
	"strings"
)

// A roster badge is written in one of three forms (NormalizeBadge gives
// each its one spelling):
//
//   - "34567": a card number alone, 1 to 20 decimal digits. It matches a
//     card with this number whatever its facility code, but only
//     while no other employee's badge names this card number with a
//     facility code (see BadgeIndex). Old rosters hold only this form.
//   - "12:34567": a facility (site) code and a card number, as Wiegand
//     readers give them; the facility code is 0 to 4294967295. It matches
//     only a card with both.
//   - "em:62E3086CED": an EM4100 tag's whole 40-bit ID, 10 hex digits,
//     version (customer) byte first, as EM4100 readers print it. Its card
//     number is the 32-bit ID in decimal, the serial printed on the tag
//     (62E3086CED: 3808980205), which the first form matches as before.
//
// MIFARE UIDs are card numbers already whole (the UID in decimal), so they
// use the first form.

// EMPrefix starts the EM4100 whole-ID form of a roster badge.
const EMPrefix = "em:"

// Badge is a roster badge, parsed.
type Badge struct {
	// Card is the card number, decimal without leading zeros: for the EM4100
	// form the 32-bit ID the tag has printed on it.
	Card string
	// Facility is the facility code, when HasFacility.
	Facility    uint32
	HasFacility bool
	// EM is the EM4100 whole ID, 10 upper-case hex digits; "" for the other forms.
	EM string
}

// Qualified reports whether the badge names more than a card number: a
// facility code or an EM4100 whole ID.
func (b Badge) Qualified() bool { return b.HasFacility || b.EM != "" }

// String is the badge in its one spelling: "34567", "12:34567" or
// "em:62E3086CED".
func (b Badge) String() string {
	switch {
	case b.EM != "":
		return EMPrefix + b.EM
	case b.HasFacility:
		return fmt.Sprintf("%d:%s", b.Facility, b.Card)
	}
	return b.Card
}

// ParseBadge reads a roster badge in any of its forms.
func ParseBadge(s string) (Badge, error) {
	if len(s) > 2*MaxBadgeLen {
		return Badge{}, fmt.Errorf("too long (%d characters)", len(s))
	}
	if len(s) >= len(EMPrefix) && strings.EqualFold(s[:len(EMPrefix)], EMPrefix) {
		h := s[len(EMPrefix):]
		id, err := strconv.ParseUint(h, 16, 64)
		if len(h) != 10 || err != nil {
			return Badge{}, fmt.Errorf("an EM4100 ID is em: and 10 hex digits (em:62E3086CED)")
		}
		return Badge{Card: strconv.FormatUint(id&0xFFFF_FFFF, 10), EM: strings.ToUpper(h)}, nil
	}
	fc, card, hasFC := strings.Cut(s, ":")
	if !hasFC {
		card = s
	}
	n, err := cardNumber(card)
	if err != nil {
		if hasFC {
			return Badge{}, fmt.Errorf("card number after the facility code %s", err)
		}
		return Badge{}, err
	}
	b := Badge{Card: n}
	if hasFC {
		if !digits(fc) || len(fc) > 20 {
			return Badge{}, fmt.Errorf("facility code must be digits (12:34567)")
		}
		f, err := strconv.ParseUint(fc, 10, 32)
		if err != nil {
			return Badge{}, fmt.Errorf("facility code must be at most 4294967295")
		}
		b.Facility, b.HasFacility = uint32(f), true
	}
	return b, nil
}

// cardNumber checks a card number and drops leading zeros.
func cardNumber(s string) (string, error) {
	if s == "" || len(s) > MaxBadgeLen {
		return "", fmt.Errorf("must be 1 to %d digits", MaxBadgeLen)
	}
	if !digits(s) {
		return "", fmt.Errorf("must be digits only")
	}
	if s = strings.TrimLeft(s, "0"); s == "" {
		s = "0"
	}
	return s, nil
}

// NormalizeBadge checks a roster badge in any of its forms and gives its
// one spelling: leading zeros dropped, so "0042" from one reader matches
// "42" from another, and "012:0042" is "12:42"; EM4100 IDs in upper case.
func NormalizeBadge(s string) (string, error) {
	b, err := ParseBadge(s)
	if err != nil {
		return "", err
	}
	return b.String(), nil
}

// BadgeIndex finds the badges of a roster that would collide: a badge a
// clock could not tell apart from another employee's. Add each employee's
// normalized badges; Add refuses
//
//   - the same badge on two employees;
//   - a card number alone that another employee's badge names with a
//     facility code or as an EM4100 whole ID: it would match that
//     employee's card too (a clock answers a read that only it matches as
//     unknown rather than guess);
//
// while two badges with one card number and different facility codes (or
// EM4100 version bytes) are two cards, and one employee may hold a card
// number both alone and with a facility code.
type BadgeIndex struct {
	owner map[string]string       // badge (normalized) -> employee
	cards map[string][]namedBadge // card number -> the qualified badges naming it
}

type namedBadge struct{ employee, badge string }

// BadgeCollision is a badge two employees would share at a clock.
type BadgeCollision struct {
	Employee, Badge string // the badge being added, and whose it is
	// Other holds OtherBadge, the badge it collides with; equal to Badge
	// when both hold the same badge.
	Other, OtherBadge string
}

func (c *BadgeCollision) Error() string {
	if c.Badge == c.OtherBadge {
		return fmt.Sprintf("badge %s of %s already belongs to %s", c.Badge, c.Employee, c.Other)
	}
	alone, withFC := c.Employee, c.Other // whose badge is the card number alone
	if strings.Contains(c.Badge, ":") {
		alone, withFC = c.Other, c.Employee
	}
	return fmt.Sprintf("badge %s of %s collides with badge %s of %s: a card number without a facility code matches %s's card too; write %s's badge with its facility code",
		c.Badge, c.Employee, c.OtherBadge, c.Other, withFC, alone)
}

// Add records employee's badge (normalized, as CheckEmployee returns it)
// or returns the collision it makes with an employee added before; a
// refused badge is not recorded.
func (x *BadgeIndex) Add(employee, badge string) *BadgeCollision {
	if x.owner == nil {
		x.owner, x.cards = map[string]string{}, map[string][]namedBadge{}
	}
	if o, dup := x.owner[badge]; dup && o != employee {
		return &BadgeCollision{employee, badge, o, badge}
	}
	b, err := ParseBadge(badge)
	if err != nil {
		return nil // CheckEmployee refuses it first
	}
	if b.Qualified() {
		if o, ok := x.owner[b.Card]; ok && o != employee {
			return &BadgeCollision{employee, badge, o, b.Card}
		}
		x.cards[b.Card] = append(x.cards[b.Card], namedBadge{employee, badge})
	} else {
		for _, q := range x.cards[b.Card] {
			if q.employee != employee {
				return &BadgeCollision{employee, badge, q.employee, q.badge}
			}
		}
	}
	x.owner[badge] = employee
	return nil
}
