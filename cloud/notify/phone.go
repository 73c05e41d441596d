package notify

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotUS is the seed's message for any number outside the USA: only US
// mobile numbers are accepted, as the product's help says: "SMS in USA Only".
var ErrNotUS = errors.New("SMS in USA only: to receive an SMS message, the employee must have a valid US-based mobile phone number")

// ErrPhoneEmpty and ErrPhoneMalformed say what is wrong with what was typed.
var (
	ErrPhoneEmpty     = errors.New("enter a mobile phone number")
	ErrPhoneMalformed = errors.New("not a valid phone number: enter 10 digits, e.g. (415) 555-2671")
)

// nonUS lists NANP area codes (+1) outside the United States and its
// territories: Canada and the Caribbean nations.
var nonUS = map[string]bool{}

func init() {
	for _, ac := range strings.Fields(`
		204 226 236 249 250 257 263 289 306 343 354 365 367 368 382 387 403 416 418 428 431 437 438
		450 460 468 474 506 514 519 548 579 581 584 587 600 604 613 622 639 647 672 683 705 709 742
		753 778 780 782 807 819 825 867 873 879 902 905 942
		242 246 264 268 284 345 441 473 649 658 664 721 758 767 784 809 829 849 868 869 876`) {
		nonUS[ac] = true
	}
}

// PhoneNumber is a US phone number in E.164 form, "+14155552671".
type PhoneNumber string

// ParseUSMobile reads a US number as people type it: "(415) 555-2671",
// "415.555.2671", "1 415 555 2671", "+1 415-555-2671". Other countries,
// Canada and the Caribbean (+1 but not US) are refused with ErrNotUS.
func ParseUSMobile(s string) (PhoneNumber, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrPhoneEmpty
	}
	intl := strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00") || strings.HasPrefix(s, "011")
	var digits []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || (c == '+' && i == 0):
		default:
			return "", ErrPhoneMalformed
		}
	}
	d := string(digits)
	if intl {
		d = strings.TrimPrefix(strings.TrimPrefix(d, "011"), "00")
		if !strings.HasPrefix(d, "1") {
			return "", ErrNotUS
		}
		d = d[1:]
	} else if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	if len(d) != 10 {
		if len(d) > 10 && intl {
			return "", ErrNotUS
		}
		return "", ErrPhoneMalformed
	}
	area, exch := d[:3], d[3:6]
	// NANP: area code and exchange start with 2-9; N11 codes are services.
	if area[0] < '2' || exch[0] < '2' || area[1:] == "11" || exch[1:] == "11" {
		return "", ErrPhoneMalformed
	}
	if nonUS[area] {
		return "", ErrNotUS
	}
	return PhoneNumber("+1" + d), nil
}

// String shows the number as a US reader expects: (415) 555-2671.
func (n PhoneNumber) String() string {
	d := strings.TrimPrefix(string(n), "+1")
	if len(d) != 10 {
		return string(n)
	}
	return fmt.Sprintf("(%s) %s-%s", d[:3], d[3:6], d[6:])
}
