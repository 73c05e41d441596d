package matrix

import "math/bits"

// maxLines bounds rows and columns: a scan is a 64-bit set, bit r*8+c.
const maxLines = 8

// keys is the set of keys a scan found down: bit r*maxLines+c.
type keys uint64

func bit(r, c int) keys { return 1 << (r*maxLines + c) }

// row returns the columns down in row r.
func (k keys) row(r int) uint8 { return uint8(k >> (r * maxLines)) }

// ghosted reports whether a scan is ambiguous. Without a diode per key,
// three keys on the corners of a rectangle make the fourth corner read as
// pressed too; then any two rows share two or more columns, and nobody can
// tell which keys are real.
func (k keys) ghosted(rows int) bool {
	for a := 0; a < rows; a++ {
		for b := a + 1; b < rows; b++ {
			if bits.OnesCount8(k.row(a)&k.row(b)) >= 2 {
				return true
			}
		}
	}
	return false
}

// debouncer turns raw scans into settled key sets. A set is settled when
// need scans in a row found it; contact bounce never lasts that long.
type debouncer struct {
	need      int  // identical scans that settle a set
	rows      int  // rows of the matrix, for ghost checks
	stable    keys // the settled set last accepted
	candidate keys // the set the latest scans found
	count     int  // scans in a row that found candidate
}

// next feeds one scan. It returns the keys newly pressed once the scan has
// settled (never keys from an ambiguous, ghosted scan) and whether every
// key is settled up, so the driver can go back to waiting for an edge.
func (d *debouncer) next(scan keys) (pressed keys, idle bool) {
	if scan == d.candidate {
		d.count++
	} else {
		d.candidate, d.count = scan, 1
	}
	if d.count < d.need {
		return 0, false
	}
	if d.candidate != d.stable {
		if d.candidate.ghosted(d.rows) {
			// Forget released keys, accept no new ones until the
			// ambiguity is gone.
			d.stable &= d.candidate
		} else {
			pressed = d.candidate &^ d.stable
			d.stable = d.candidate
		}
	}
	return pressed, d.stable == 0 && d.candidate == 0
}

// each calls f for every key in k, row by row.
func (k keys) each(f func(r, c int)) {
	for k != 0 {
		i := bits.TrailingZeros64(uint64(k))
		f(i/maxLines, i%maxLines)
		k &^= 1 << i
	}
}
