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

// precheck reads the two meta pages and refuses a file whose newest valid
// meta points past its end (truncated), or that has no valid meta at all
// (zeroed, garbage, torn beyond repair). bbolt would map such a file and
// fault on the missing pages instead of returning an error.
func precheck(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size == 0 {
		return nil // created but never written: bbolt lays it out
	}
	buf := make([]byte, pageHeader+metaLen)
	read := func(off int64) (metaPage, bool) {
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return metaPage{}, false
		}
		return parseMeta(buf)
	}
	var best metaPage
	var found bool
	consider := func(m metaPage, ok bool) {
		if !ok || m.pageSize < 512 || m.pageSize > 1<<16 || m.pageSize&(m.pageSize-1) != 0 {
			return
		}
		if m.root >= m.pgid || (m.freelist >= m.pgid && m.freelist != noFreelist) {
			return
		}
		if !found || m.txid > best.txid {
			best, found = m, true
		}
	}
	m0, ok0 := read(0)
	consider(m0, ok0)
	sizes := []uint32{4096, 8192, 16384, 32768, 65536, 1024, 2048, 512}
	if ok0 {
		sizes = append([]uint32{m0.pageSize}, sizes...)
	}
	for _, ps := range sizes {
		if m1, ok := read(int64(ps)); ok && m1.pageSize == ps {
			consider(m1, true)
			break
		}
	}
	if !found {
		return corrupt("no valid meta page (%d bytes: zeroed, garbage or torn)", size)
	}
	if need := int64(best.pgid) * int64(best.pageSize); need > size {
		return corrupt("truncated: %d bytes, the last commit needs %d", size, need)
	}
	return nil
}
