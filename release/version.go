package release

// CompareVersions orders two versions as dpkg does (the package versions
// are the firmware versions: "1.4.0", "0.0~git20261202101330.abc1234"):
// -1, 0 or 1. Epochs and revisions are not used by timeclock and compare as
// plain characters.
func CompareVersions(a, b string) int {
	for a != "" || b != "" {
		// The non-digit prefix, compared with dpkg's character order.
		var an, bn string
		an, a = split(a, false)
		bn, b = split(b, false)
		if c := compareLexical(an, bn); c != 0 {
			return c
		}
		// The digit run, compared as a number.
		an, a = split(a, true)
		bn, b = split(b, true)
		if c := compareNumeric(an, bn); c != 0 {
			return c
		}
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func split(s string, digits bool) (string, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) == digits {
		i++
	}
	return s[:i], s[i:]
}

// order is dpkg's weight of a character: ~ before everything (even the
// end), then the end, letters, then the other characters.
func order(c byte, end bool) int {
	switch {
	case end:
		return 0
	case c == '~':
		return -1
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		return int(c)
	default:
		return int(c) + 256
	}
}

func compareLexical(a, b string) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var ca, cb byte
		if i < len(a) {
			ca = a[i]
		}
		if i < len(b) {
			cb = b[i]
		}
		oa, ob := order(ca, i >= len(a)), order(cb, i >= len(b))
		if oa != ob {
			if oa < ob {
				return -1
			}
			return 1
		}
	}
	return 0
}

func compareNumeric(a, b string) int {
	for len(a) > 0 && a[0] == '0' {
		a = a[1:]
	}
	for len(b) > 0 && b[0] == '0' {
		b = b[1:]
	}
	switch {
	case len(a) != len(b):
		if len(a) < len(b) {
			return -1
		}
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
