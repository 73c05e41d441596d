package store

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's meta page, as it lays it out: a 16-byte page header, then magic,
// version, page size, flags, root bucket (pgid, sequence), freelist pgid,
// high-water pgid, txid and an FNV-64a checksum of the bytes before it.
const (
	pageHeader    = 16
	metaMagic     = 0xED0CDAED
	metaVersion   = 2
	metaSumOffset = 56
	metaLen       = 64
	noFreelist    = ^uint64(0)
)

type metaPage struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
}

func parseMeta(b []byte) (metaPage, bool) {
	if len(b) < pageHeader+metaLen {
		return metaPage{}, false
	}
	m := b[pageHeader : pageHeader+metaLen]
	le := binary.NativeEndian
	h := fnv.New64a()
	h.Write(m[:metaSumOffset])
	if le.Uint32(m[0:]) != metaMagic || le.Uint32(m[4:]) != metaVersion || h.Sum64() != le.Uint64(m[metaSumOffset:]) {
		return metaPage{}, false
	}
	return metaPage{
		pageSize: le.Uint32(m[8:]),
		root:     le.Uint64(m[16:]),
		freelist: le.Uint64(m[32:]),
		pgid:     le.Uint64(m[40:]),
		txid:     le.Uint64(m[48:]),
	}, true
}

// readMetas returns the sound meta pages of f, newest first: a checksum
// that matches, a sane page size, a root and freelist below the high-water
// mark.
func readMetas(f *os.File) []metaPage {
	buf := make([]byte, pageHeader+metaLen)
	read := func(off int64) (metaPage, bool) {
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return metaPage{}, false
		}
		return parseMeta(buf)
	}
	sane := func(m metaPage) bool {
		if m.pageSize < 512 || m.pageSize > 1<<16 || m.pageSize&(m.pageSize-1) != 0 {
			return false
		}
		return m.root < m.pgid && (m.freelist < m.pgid || m.freelist == noFreelist)
	}
	var out []metaPage
	m0, ok0 := read(0)
	if ok0 && sane(m0) {
		out = append(out, m0)
	}
	sizes := []uint32{4096, 8192, 16384, 32768, 65536, 1024, 2048, 512}
	if ok0 {
		sizes = append([]uint32{m0.pageSize}, sizes...)
	}
	for _, ps := range sizes {
		if m1, ok := read(int64(ps)); ok && m1.pageSize == ps {
			if sane(m1) && (len(out) == 0 || m1.pageSize == out[0].pageSize) {
				out = append(out, m1)
			}
			break
		}
	}
	if len(out) == 2 && out[1].txid > out[0].txid {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

// precheck reads the two meta pages, then walks the newest one's tree by
// hand (checkTree), before bbolt maps anything. It refuses a file with a damaged
// meta page (bbolt would fall back to the other one, silently losing the
// last commit), or whose newest meta points past its end (truncated): bbolt
// would map such a file and fault on the missing pages instead of returning
// an error. A file that is not there is fine (a new clock); an empty one is
// reported as errEmpty, for Open to decide.
func precheck(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		if fi.Mode()&os.ModeSymlink == 0 {
			return notFile("a %v is in the state file's place", fi.Mode().Type())
		}
		if fi, err = os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			return notFile("the state file is a link to nothing usable (%v)", err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	size := fi.Size()
	if size == 0 {
		return errEmpty
	}
	metas := readMetas(f)
	if len(metas) == 0 {
		return corrupt("no valid meta page (%d bytes: zeroed, garbage or torn)", size)
	}
	if len(metas) == 1 {
		return corrupt("one of the two meta pages is damaged")
	}
	best := metas[0]
	if need := int64(best.pgid) * int64(best.pageSize); need > size {
		return corrupt("truncated: %d bytes, the last commit needs %d", size, need)
	}
	return checkTree(f, best)
}
