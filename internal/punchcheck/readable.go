package punchcheck

import (
	"bytes"
	"encoding/binary"
)

// Readable says which punches of the original file can still be read in
// the damaged one, by bytes alone (it shares no code with the salvage):
// a punch is readable when some leaf page of the original holds it and
// that page's header, the punch's element and its key and value bytes are
// all unchanged in the damaged file. Stale copies on freed pages count.
func Readable(orig, damaged []byte, seqs map[uint64]bool) map[uint64]bool {
	readable, _ := Copies(orig, damaged, seqs)
	return readable
}

// Copies is Readable, and untouched: the punches none of whose copies
// changed at all. Only those must come back byte for byte: where one copy
// changed and still decodes, nothing tells it from the intact one (bbolt
// pages and v1 records carry no checksum).
func Copies(orig, damaged []byte, seqs map[uint64]bool) (readable, untouched map[uint64]bool) {
	const ps, hdr, elem = 4096, 16, 16
	le := binary.NativeEndian
	same := func(from, to int) bool {
		return to <= len(damaged) && bytes.Equal(orig[from:to], damaged[from:to])
	}
	out := map[uint64]bool{}
	touched := map[uint64]bool{}
	// leaf reads the leaf page at file offset base (an inline bucket's page
	// sits inside its parent's value, so it has no page size of its own).
	var leaf func(base, end int)
	leaf = func(base, end int) {
		page := orig[base:end]
		if len(page) < hdr || le.Uint16(page[8:]) != 0x02 || !same(base, base+hdr) {
			return
		}
		for i := range int(le.Uint16(page[10:])) {
			e := hdr + i*elem
			if e+elem > len(page) {
				break
			}
			flags, pos, ks, vs := le.Uint32(page[e:]), int(le.Uint32(page[e+4:])), int(le.Uint32(page[e+8:])), int(le.Uint32(page[e+12:]))
			start := e + pos
			if start+ks+vs > len(page) {
				continue
			}
			if !same(base+e, base+e+elem) {
				if ks == 8 && flags == 0 {
					touched[binary.BigEndian.Uint64(page[start:])] = true
				}
				continue
			}
			if flags&1 != 0 { // a bucket: follow it when inline (root 0)
				v := page[start+ks : start+ks+vs]
				if len(v) > 16 && le.Uint64(v) == 0 && same(base+start+ks, base+start+ks+16) {
					leaf(base+start+ks+16, base+start+ks+vs)
				}
				continue
			}
			if ks != 8 {
				continue
			}
			seq := binary.BigEndian.Uint64(page[start:])
			if !seqs[seq] {
				continue
			}
			if same(base+start, base+start+ks+vs) {
				out[seq] = true
			} else {
				touched[seq] = true
			}
		}
	}
	for off := 2 * ps; off+ps <= len(orig); off += ps {
		leaf(off, off+ps)
	}
	untouched = map[uint64]bool{}
	for seq := range out {
		if !touched[seq] {
			untouched[seq] = true
		}
	}
	return out, untouched
}
