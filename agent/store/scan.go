package store

import (
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

// checkTree walks the tree of meta m page by page with ReadAt and returns
// the first thing bbolt could not read safely: a page id outside the high-
// water mark, a page that does not name itself, a type other than the
// tree's, elements, keys or values past the page's end, a page reached
// twice. bbolt reads pages through its memory map without such checks, and
// Tx.Check does so on a goroutine of its own, where a wild page id is a
// fatal fault, not a panic anyone can recover.
func checkTree(f *os.File, m metaPage) error {
	le := binary.NativeEndian
	ps := int(m.pageSize)
	seen := map[uint64]bool{}
	read := func(id uint64, want uint16) ([]byte, error) {
		if id < 2 || id >= m.pgid {
			return nil, corrupt("page %d: outside the file's %d pages", id, m.pgid)
		}
		hdr := make([]byte, pageHeader)
		if _, err := f.ReadAt(hdr, int64(id)*int64(ps)); err != nil {
			return nil, corrupt("page %d: %v", id, err)
		}
		if got := le.Uint64(hdr); got != id {
			return nil, corrupt("page %d: names itself %d", id, got)
		}
		if got := le.Uint16(hdr[8:]); got&want == 0 {
			return nil, corrupt("page %d: type %#x where %#x belongs", id, got, want)
		}
		ov := uint64(le.Uint32(hdr[12:]))
		if id+ov >= m.pgid {
			return nil, corrupt("page %d: %d overflow pages past the end", id, ov)
		}
		for i := id; i <= id+ov; i++ {
			if seen[i] {
				return nil, corrupt("page %d: reached twice", i)
			}
			seen[i] = true
		}
		b := make([]byte, (1+int(ov))*ps)
		if _, err := f.ReadAt(b, int64(id)*int64(ps)); err != nil {
			return nil, corrupt("page %d: %v", id, err)
		}
		return b, nil
	}
	// elems checks a page's element table and returns its count.
	elems := func(b []byte, what string) (int, error) {
		n := int(le.Uint16(b[10:]))
		if pageHeader+n*elemSize > len(b) {
			return 0, corrupt("%s: %d elements do not fit", what, n)
		}
		return n, nil
	}
	var walk func(id uint64, depth int) error
	var leaf func(b []byte, what string, depth int) error
	walk = func(id uint64, depth int) error {
		if depth > 64 {
			return corrupt("page %d: tree deeper than 64", id)
		}
		b, err := read(id, pageBranch|pageLeaf)
		if err != nil {
			return err
		}
		if le.Uint16(b[8:]) == pageLeaf {
			return leaf(b, fmt.Sprintf("page %d", id), depth)
		}
		n, err := elems(b, fmt.Sprintf("page %d", id))
		if err != nil {
			return err
		}
		if n == 0 {
			return corrupt("page %d: an empty branch", id)
		}
		for i := range n {
			off := pageHeader + i*elemSize
			pos, ks := uint64(le.Uint32(b[off:])), uint64(le.Uint32(b[off+4:]))
			if uint64(off)+pos+ks > uint64(len(b)) {
				return corrupt("page %d: key %d past the page's end", id, i)
			}
			if err := walk(le.Uint64(b[off+8:]), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	leaf = func(b []byte, what string, depth int) error {
		if len(b) < pageHeader || le.Uint16(b[8:]) != pageLeaf {
			return corrupt("%s: not a leaf", what)
		}
		n, err := elems(b, what)
		if err != nil {
			return err
		}
		for i := range n {
			off := pageHeader + i*elemSize
			flags, pos, ks, vs := le.Uint32(b[off:]), uint64(le.Uint32(b[off+4:])), uint64(le.Uint32(b[off+8:])), uint64(le.Uint32(b[off+12:]))
			start := uint64(off) + pos
			if start+ks+vs > uint64(len(b)) {
				return corrupt("%s: element %d past the page's end", what, i)
			}
			if flags&bucketLeafFlag == 0 {
				continue
			}
			v := b[start+ks : start+ks+vs]
			if len(v) < bucketHeader {
				return corrupt("%s: bucket %q of %d bytes", what, b[start:start+ks], len(v))
			}
			if root := le.Uint64(v); root != 0 {
				err = walk(root, depth+1)
			} else {
				err = leaf(v[bucketHeader:], fmt.Sprintf("%s: inline bucket %q", what, b[start:start+ks]), depth+1)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	if m.freelist != noFreelist {
		if _, err := read(m.freelist, pageFreelist); err != nil {
			return err
		}
	}
	return walk(m.root, 0)
}
