package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// The raw reader salvage uses: it reads bbolt pages with ReadAt, never
// through a memory map, and checks every length and offset against the
// bytes it has, so no damage can fault or panic it. bbolt's page layout:
// a 16-byte header (id, flags, count, overflow), then count 16-byte
// elements, then the keys and values they point to.
const (
	pageBranch     = 0x01
	pageLeaf       = 0x02
	elemSize       = 16
	bucketLeafFlag = 0x01
	bucketHeader   = 16 // root pgid, sequence; an inline bucket's page follows
	maxOverflow    = 1 << 14
)

// rawKV is one key/value found on a page. bucket is the name of the
// bucket it belongs to when the page was reached through the tree or sits
// in an inline bucket; nil when it was found on a loose page.
type rawKV struct {
	bucket []byte
	k, v   []byte
	tree   bool // reached from the newest sound meta's root
}

type rawFile struct {
	f        *os.File
	pageSize int
	pages    uint64 // whole pages in the file
}

// page returns page id's bytes with its overflow pages, or nil when they
// are not all in the file.
func (r *rawFile) page(id uint64) []byte {
	if id < 2 || id >= r.pages {
		return nil
	}
	hdr := make([]byte, pageHeader)
	if _, err := r.f.ReadAt(hdr, int64(id)*int64(r.pageSize)); err != nil {
		return nil
	}
	ov := uint64(binary.NativeEndian.Uint32(hdr[12:]))
	if ov > maxOverflow || id+ov >= r.pages {
		ov = 0 // a damaged overflow count: read the one page
	}
	b := make([]byte, (1+int(ov))*r.pageSize)
	if _, err := r.f.ReadAt(b, int64(id)*int64(r.pageSize)); err != nil && !errors.Is(err, io.EOF) {
		return nil
	}
	return b
}

// leafElems parses a leaf page (b starts at its header). It returns the
// elements whose bytes are all inside b; a bad element is skipped, the
// rest are kept.
func leafElems(b []byte, visit func(flags uint32, k, v []byte)) bool {
	if len(b) < pageHeader {
		return false
	}
	le := binary.NativeEndian
	if le.Uint16(b[8:]) != pageLeaf {
		return false
	}
	n := int(le.Uint16(b[10:]))
	if pageHeader+n*elemSize > len(b) {
		n = (len(b) - pageHeader) / elemSize
	}
	for i := range n {
		off := pageHeader + i*elemSize
		e := b[off : off+elemSize]
		flags, pos, ks, vs := le.Uint32(e[0:]), uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
		start := uint64(off) + pos
		if ks == 0 || start+ks+vs > uint64(len(b)) {
			continue
		}
		visit(flags, b[start:start+ks], b[start+ks:start+ks+vs])
	}
	return true
}

// branchChildren parses a branch page's child page ids.
func branchChildren(b []byte) ([]uint64, bool) {
	if len(b) < pageHeader {
		return nil, false
	}
	le := binary.NativeEndian
	if le.Uint16(b[8:]) != pageBranch {
		return nil, false
	}
	n := int(le.Uint16(b[10:]))
	if pageHeader+n*elemSize > len(b) {
		n = (len(b) - pageHeader) / elemSize
	}
	ids := make([]uint64, 0, n)
	for i := range n {
		off := pageHeader + i*elemSize
		ids = append(ids, le.Uint64(b[off+8:]))
	}
	return ids, true
}

// scanner collects every key/value it can read: first through the tree of
// each sound meta page (newest first), then from every page the trees did
// not reach (loose pages: a damaged branch's children, freed pages).
type scanner struct {
	r       *rawFile
	visited map[uint64]bool
	kvs     []rawKV
	bad     int // pages or elements that could not be read
}

// walk reads the tree under page id as bucket's records (bucket nil: the
// root, whose elements are buckets).
func (s *scanner) walk(id uint64, bucket []byte, tree bool, depth int) {
	if depth > 64 || s.visited[id] {
		return
	}
	b := s.r.page(id)
	if b == nil {
		s.bad++
		return
	}
	s.visited[id] = true
	if kids, ok := branchChildren(b); ok {
		for _, k := range kids {
			s.walk(k, bucket, tree, depth+1)
		}
		return
	}
	if !s.leaf(b, bucket, tree, depth) {
		s.bad++
	}
}

// leaf reads one leaf page's records. An inline bucket's records are
// labelled with its name; a bucket with pages of its own is followed only
// on a page reached from a sound meta (follow): a stale copy of a root
// page may point at pages reused since by another bucket.
func (s *scanner) leaf(b, bucket []byte, tree bool, depth int) bool {
	return s.leafFollow(b, bucket, tree, true, depth)
}

func (s *scanner) leafFollow(b, bucket []byte, tree, follow bool, depth int) bool {
	if depth > 64 {
		return false
	}
	return leafElems(b, func(flags uint32, k, v []byte) {
		if flags&bucketLeafFlag == 0 {
			s.kvs = append(s.kvs, rawKV{bucket: bucket, k: k, v: v, tree: tree})
			return
		}
		if bucket != nil || len(v) < bucketHeader {
			return // we nest no buckets: a sub-bucket here is damage
		}
		root := binary.NativeEndian.Uint64(v)
		if root == 0 {
			if !s.leafFollow(v[bucketHeader:], k, tree, follow, depth+1) {
				s.bad++
			}
			return
		}
		if follow {
			s.walk(root, k, tree, depth+1)
		}
	})
}

// loose reads every page no tree reached: leaf pages give records without
// a bucket (or with one, inside an inline bucket of a stale root copy).
func (s *scanner) loose() {
	for id := uint64(2); id < s.r.pages; id++ {
		if s.visited[id] {
			continue
		}
		b := s.r.page(id)
		if b == nil {
			continue
		}
		if ov := int(binary.NativeEndian.Uint32(b[12:])); len(b) > s.r.pageSize {
			// An overflowing page: its overflow pages are its own.
			for i := 1; i <= ov; i++ {
				s.visited[id+uint64(i)] = true
			}
		}
		s.leafFollow(b, nil, false, false, 0)
	}
}

// scanFile reads what it can of the file at path. The page size comes from
// a sound meta page, else the usual 4096.
func scanFile(path string) (*scanner, []metaPage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	metas := readMetas(f)
	ps := 4096
	if len(metas) > 0 {
		ps = int(metas[0].pageSize)
	}
	// A torn last page counts: its missing tail reads as zeros, and what
	// lies before the tear can still be read.
	pages := (uint64(fi.Size()) + uint64(ps) - 1) / uint64(ps)
	s := &scanner{r: &rawFile{f: f, pageSize: ps, pages: pages}, visited: map[uint64]bool{}}
	for i, m := range metas {
		s.walk(m.root, nil, i == 0, 0)
	}
	s.loose()
	return s, metas, nil
}

// pageFreelist is bbolt's freelist page type.
const pageFreelist = 0x10

// checkTree checks the tree of meta m with plain reads and returns the
// first thing bbolt could not read safely: a page id outside the
// high-water mark, a page that does not name itself, a type other than
// the tree's, elements, keys or values past the page's end, a page reached
// twice. bbolt reads pages through its memory map without such checks, and
// Tx.Check does so on a goroutine of its own, where a wild page id is a
// fatal fault, not a panic anyone can recover.
//
// It reads the file once, in order, in large chunks (a page at a time
// would be a system call per page: 8,000 for a full journal), noting what
// each page says of itself, then walks the tree over those notes.
func checkTree(f *os.File, m metaPage) error {
	le := binary.NativeEndian
	ps := int(m.pageSize)
	type note struct {
		self  uint64
		flags uint16
		ov    uint64
		kids  []uint64 // branch children
		keys  [][]byte // a branch's keys, one per child
		roots []uint64 // roots of buckets with pages of their own
		first []byte   // a leaf's first and last keys (its keys are in order)
		last  []byte
		err   error // what is wrong inside the page
	}
	notes := make([]note, m.pgid)
	var parse func(b []byte, n *note, what string, depth int)
	parse = func(b []byte, n *note, what string, depth int) {
		if depth > 8 {
			n.err = corrupt("%s: buckets nested too deep", what)
			return
		}
		cnt := int(le.Uint16(b[10:]))
		if pageHeader+cnt*elemSize > len(b) {
			n.err = corrupt("%s: %d elements do not fit", what, cnt)
			return
		}
		switch le.Uint16(b[8:]) {
		case pageBranch:
			if cnt == 0 {
				n.err = corrupt("%s: an empty branch", what)
				return
			}
			for i := range cnt {
				off := pageHeader + i*elemSize
				pos, ks := uint64(le.Uint32(b[off:])), uint64(le.Uint32(b[off+4:]))
				if uint64(off)+pos+ks > uint64(len(b)) {
					n.err = corrupt("%s: key %d past the page's end", what, i)
					return
				}
				n.kids = append(n.kids, le.Uint64(b[off+8:]))
				start := uint64(off) + pos
				n.keys = append(n.keys, bytes.Clone(b[start:start+ks]))
			}
		case pageLeaf:
			for i := range cnt {
				off := pageHeader + i*elemSize
				flags, pos, ks, vs := le.Uint32(b[off:]), uint64(le.Uint32(b[off+4:])), uint64(le.Uint32(b[off+8:])), uint64(le.Uint32(b[off+12:]))
				start := uint64(off) + pos
				if start+ks+vs > uint64(len(b)) {
					n.err = corrupt("%s: element %d past the page's end", what, i)
					return
				}
				if depth == 0 { // bbolt checks the order of a tree's keys, not an inline bucket's
					k := b[start : start+ks]
					switch {
					case i == 0:
						n.first = bytes.Clone(k)
					case bytes.Compare(n.last, k) >= 0:
						n.err = corrupt("%s: key %d not above the one before", what, i)
						return
					}
					n.last = k // cloned below, once
				}
				if flags&bucketLeafFlag == 0 {
					continue
				}
				v := b[start+ks : start+ks+vs]
				if len(v) < bucketHeader {
					n.err = corrupt("%s: bucket %q of %d bytes", what, b[start:start+ks], len(v))
					return
				}
				if root := le.Uint64(v); root != 0 {
					n.roots = append(n.roots, root)
					continue
				}
				in := v[bucketHeader:]
				if len(in) < pageHeader || le.Uint16(in[8:]) != pageLeaf {
					n.err = corrupt("%s: inline bucket %q is not a leaf", what, b[start:start+ks])
					return
				}
				parse(in, n, fmt.Sprintf("%s: inline bucket %q", what, b[start:start+ks]), depth+1)
				if n.err != nil {
					return
				}
			}
			if depth == 0 {
				n.last = bytes.Clone(n.last)
			}
		}
	}
	const chunk = 256
	buf := make([]byte, chunk*ps)
	for first := uint64(0); first < m.pgid; first += chunk {
		k := min(uint64(chunk), m.pgid-first)
		b := buf[:int(k)*ps]
		if _, err := f.ReadAt(b, int64(first)*int64(ps)); err != nil && !errors.Is(err, io.EOF) {
			return corrupt("reading pages %d-%d: %v", first, first+k-1, err)
		}
		for i := uint64(0); i < k; i++ {
			id := first + i
			if id < 2 {
				continue
			}
			p := b[int(i)*ps : int(i+1)*ps]
			n := &notes[id]
			n.self, n.flags, n.ov = le.Uint64(p), le.Uint16(p[8:]), uint64(le.Uint32(p[12:]))
			if n.flags == pageFreelist {
				// bbolt copies count page ids: a count past the page's end
				// would read past it, or allocate gigabytes.
				cnt, at := uint64(le.Uint16(p[10:])), uint64(pageHeader)
				if cnt == 0xFFFF {
					cnt, at = le.Uint64(p[pageHeader:]), pageHeader+8
				}
				if cnt > (n.ov+1)*uint64(ps)/8 || at+cnt*8 > (n.ov+1)*uint64(ps) {
					n.err = corrupt("page %d: a freelist of %d ids does not fit", id, cnt)
				}
				continue
			}
			if n.flags != pageBranch && n.flags != pageLeaf {
				continue // free or garbage: judged only if reached
			}
			if n.ov > 0 {
				if id+n.ov >= m.pgid {
					continue // judged if reached
				}
				p = make([]byte, (1+int(n.ov))*ps) // rare: values past a page
				if _, err := f.ReadAt(p, int64(id)*int64(ps)); err != nil {
					n.err = corrupt("page %d: %v", id, err)
					continue
				}
			}
			parse(p, n, fmt.Sprintf("page %d", id), 0)
		}
	}
	// The freelist: the pages bbolt may reuse.
	// The freelist: the pages bbolt may reuse (read once the freelist
	// page is known sound, before the walk).
	freed := make([]bool, m.pgid)
	seen := make([]bool, m.pgid)
	reach := func(id uint64, want uint16) (*note, error) {
		if id < 2 || id >= m.pgid {
			return nil, corrupt("page %d: outside the file's %d pages", id, m.pgid)
		}
		n := &notes[id]
		switch {
		case n.self != id:
			return nil, corrupt("page %d: names itself %d", id, n.self)
		case n.flags&want == 0:
			return nil, corrupt("page %d: type %#x where %#x belongs", id, n.flags, want)
		case id+n.ov >= m.pgid:
			return nil, corrupt("page %d: %d overflow pages past the end", id, n.ov)
		case n.err != nil:
			return nil, n.err
		}
		for i := id; i <= id+n.ov; i++ {
			if seen[i] {
				return nil, corrupt("page %d: reached twice", i)
			}
			seen[i] = true
		}
		return n, nil
	}
	// walk checks the tree under page id, whose keys must be in [lo, hi)
	// (nil: unbounded), as bbolt's Tx.Check does, and returns its largest
	// key.
	var walk func(id uint64, lo, hi []byte, depth int) ([]byte, error)
	walk = func(id uint64, lo, hi []byte, depth int) (top []byte, err error) {
		if depth > 64 {
			return nil, corrupt("page %d: tree deeper than 64", id)
		}
		n, err := reach(id, pageBranch|pageLeaf)
		if err != nil {
			return nil, err
		}
		if freed[id] {
			return nil, corrupt("page %d: in use and in the freelist", id)
		}
		if n.flags == pageLeaf {
			if n.first != nil && ((lo != nil && bytes.Compare(lo, n.first) > 0) || (hi != nil && bytes.Compare(n.last, hi) >= 0)) {
				return nil, corrupt("page %d: keys outside their parent's range", id)
			}
			for _, r := range n.roots {
				if _, err := walk(r, nil, nil, depth+1); err != nil {
					return nil, err
				}
			}
			return n.last, nil
		}
		running := lo
		for i, k := range n.keys {
			if (i == 0 && running != nil && bytes.Compare(running, k) > 0) || (i > 0 && bytes.Compare(running, k) >= 0) ||
				(hi != nil && bytes.Compare(k, hi) >= 0) {
				return nil, corrupt("page %d: key %d out of order", id, i)
			}
			next := hi
			if i+1 < len(n.keys) {
				next = n.keys[i+1]
			}
			if top, err = walk(n.kids[i], k, next, depth+1); err != nil {
				return nil, err
			}
			running = top
		}
		return top, nil
	}
	if m.freelist != noFreelist {
		n, err := reach(m.freelist, pageFreelist)
		if err != nil {
			return err
		}
		if err := readFreed(f, m, n.ov, freed); err != nil {
			return err
		}
	}
	if _, err := walk(m.root, nil, nil, 0); err != nil {
		return err
	}
	if m.freelist == noFreelist {
		return nil // bbolt rebuilds the freelist from the pages not reached
	}
	for id := uint64(2); id < m.pgid; id++ {
		if !seen[id] && !freed[id] {
			return corrupt("page %d: neither in use nor in the freelist", id)
		}
	}
	return nil
}

// readFreed marks the page ids of m's freelist page (with ov overflow
// pages; its count was checked against them) in freed. An id listed twice
// is damage; ids past the high-water mark are not pages bbolt can reuse or
// the check can reach, and are passed over, as bbolt's map freelist (the
// one the clock uses) does.
func readFreed(f *os.File, m metaPage, ov uint64, freed []bool) error {
	le := binary.NativeEndian
	b := make([]byte, (1+ov)*uint64(m.pageSize))
	if _, err := f.ReadAt(b, int64(m.freelist)*int64(m.pageSize)); err != nil && !errors.Is(err, io.EOF) {
		return corrupt("freelist page %d: %v", m.freelist, err)
	}
	cnt, at := uint64(le.Uint16(b[10:])), uint64(pageHeader)
	if cnt == 0xFFFF {
		cnt, at = le.Uint64(b[pageHeader:]), pageHeader+8
	}
	for i := range min(cnt, (uint64(len(b))-at)/8) { // the count fits: checked with the page
		id := le.Uint64(b[at+i*8:])
		if id >= uint64(len(freed)) {
			continue
		}
		if freed[id] {
			return corrupt("page %d: freed twice", id)
		}
		freed[id] = true
	}
	return nil
}
