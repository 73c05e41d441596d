// Package logwrites reads the log of the kernel's dm-log-writes target
// (Documentation/admin-guide/device-mapper/log-writes.rst) and replays it
// onto a device: the booted tier's crash test records every write, flush
// and mark of the clock's state disk, then rebuilds the disk as it stood at
// each flush point to open the clock's state there.
//
// The log is a super block at byte 0 (magic, version, number of entries,
// the data device's sector size), then for each entry one sector holding
// its header (sector, number of sectors, flags, data length; a mark's text
// follows the header in that sector) and, for a write, its data. Sectors in
// entries count in the data device's sector size. A write is logged only
// once a flush made it durable, so the log is in the order data reached the
// disk.
package logwrites

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Entry flags.
const (
	Flush    = 1 << 0
	FUA      = 1 << 1
	Discard  = 1 << 2
	Mark     = 1 << 3
	Metadata = 1 << 4
)

// Magic and Version are those of the kernel's log format.
const (
	Magic   = 0x6a736677736872
	Version = 1
)

const (
	superSize = 8 + 8 + 8 + 4
	entrySize = 8 * 4
	// maxBytes bounds one entry's data (the kernel's bios are far
	// smaller): a damaged header must not make the reader allocate
	// gigabytes.
	maxBytes = 16 << 20
)

// Entry is one logged write, flush, discard or mark.
type Entry struct {
	Index      int    // 0-based, in log order
	Sector     uint64 // on the data device, in SectorSize units
	NrSectors  uint64
	Flags      uint64
	Mark       string // a mark's text
	dataOffset int64  // of the data in the log
}

// Has reports whether the entry has all of flags.
func (e Entry) Has(flags uint64) bool { return e.Flags&flags == flags }

// Log is an opened log.
type Log struct {
	r          io.ReaderAt
	SectorSize int64
	Entries    []Entry
}

// Open reads the super block and every entry header of the log r.
func Open(r io.ReaderAt) (*Log, error) {
	var sb [superSize]byte
	if _, err := r.ReadAt(sb[:], 0); err != nil {
		return nil, fmt.Errorf("logwrites: super block: %w", err)
	}
	le := binary.LittleEndian
	if m := le.Uint64(sb[0:]); m != Magic {
		return nil, fmt.Errorf("logwrites: magic %#x, not a dm-log-writes log", m)
	}
	if v := le.Uint64(sb[8:]); v != Version {
		return nil, fmt.Errorf("logwrites: version %d, want %d", v, Version)
	}
	n := le.Uint64(sb[16:])
	ss := int64(le.Uint32(sb[24:]))
	if ss < 512 || ss > 64<<10 || ss&(ss-1) != 0 {
		return nil, fmt.Errorf("logwrites: sector size %d", ss)
	}
	l := &Log{r: r, SectorSize: ss}
	off := ss
	hdr := make([]byte, ss)
	for i := uint64(0); i < n; i++ {
		if _, err := r.ReadAt(hdr, off); err != nil {
			return nil, fmt.Errorf("logwrites: entry %d of %d at byte %d: %w", i, n, off, err)
		}
		e := Entry{Index: int(i), Sector: le.Uint64(hdr[0:]), NrSectors: le.Uint64(hdr[8:]), Flags: le.Uint64(hdr[16:])}
		dataLen := le.Uint64(hdr[24:])
		if e.NrSectors > maxBytes/uint64(ss) {
			return nil, fmt.Errorf("logwrites: entry %d: %d sectors", i, e.NrSectors)
		}
		off += ss
		if e.Has(Mark) {
			if dataLen > uint64(ss-entrySize) {
				return nil, fmt.Errorf("logwrites: entry %d: mark of %d bytes", i, dataLen)
			}
			e.Mark = string(hdr[entrySize : entrySize+dataLen])
		}
		e.dataOffset = off
		if !e.Has(Discard) {
			off += int64(e.NrSectors) * ss
		}
		l.Entries = append(l.Entries, e)
	}
	return l, nil
}

// Device is what a log is replayed onto.
type Device interface {
	io.WriterAt
}

// Replayer applies a log's entries to a device in order.
type Replayer struct {
	l    *Log
	dev  Device
	next int // the next entry to apply
	buf  []byte
}

// NewReplayer replays l onto dev, which must hold what the data device
// held when logging started (for a log begun at mkfs: zeros).
func (l *Log) NewReplayer(dev Device) *Replayer { return &Replayer{l: l, dev: dev} }

// Next is the index of the next entry to apply.
func (p *Replayer) Next() int { return p.next }

// Through applies every entry up to and including index i.
func (p *Replayer) Through(i int) error {
	if i >= len(p.l.Entries) {
		return fmt.Errorf("logwrites: entry %d of %d", i, len(p.l.Entries))
	}
	for ; p.next <= i; p.next++ {
		if err := p.apply(p.l.Entries[p.next]); err != nil {
			return err
		}
	}
	return nil
}

func (p *Replayer) apply(e Entry) error {
	n := int64(e.NrSectors) * p.l.SectorSize
	if n == 0 || e.Has(Mark) {
		return nil
	}
	if int64(cap(p.buf)) < n {
		p.buf = make([]byte, n)
	}
	b := p.buf[:n]
	if e.Has(Discard) {
		// Discarded blocks read back as anything; zeros are one answer.
		clear(b)
	} else if _, err := p.l.r.ReadAt(b, e.dataOffset); err != nil {
		return fmt.Errorf("logwrites: entry %d's data: %w", e.Index, err)
	}
	if _, err := p.dev.WriteAt(b, int64(e.Sector)*p.l.SectorSize); err != nil {
		return fmt.Errorf("logwrites: entry %d onto the device: %w", e.Index, err)
	}
	return nil
}

// CrashPoints are the entries after which the disk may be found by a power
// cut in a state a correct program must survive: each flush (and FUA write:
// durable on completion), and each mark (where the test noted what it had
// been told was durable).
func (l *Log) CrashPoints() []Entry {
	var out []Entry
	for _, e := range l.Entries {
		if e.Flags&(Flush|FUA|Mark) != 0 {
			out = append(out, e)
		}
	}
	return out
}

// Point is what the booted tier's crash check found at one crash point:
// the entry, and the clock's state as it opened there.
type Point struct {
	Entry    int          `json:"entry"`
	Flags    uint64       `json:"flags"`
	Mark     string       `json:"mark,omitempty"`
	HasState bool         `json:"has_state"` // state.db existed
	Damaged  bool         `json:"damaged"`   // the store set it aside
	Punches  []PointPunch `json:"punches"`
	Err      string       `json:"err,omitempty"` // the state could not be opened
}

// PointPunch is a punch in the journal at a crash point.
type PointPunch struct {
	Seq      uint64 `json:"seq"`
	ID       string `json:"id"`
	Employee string `json:"employee"`
}
