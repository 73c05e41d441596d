package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"timeclock/clock"
)

// The record encoding: compact, because 200,000 pending punches must fit
// the state file's budget. Version 2 is what encode writes; version 1 is
// still read (records written before the checksum).
//
//	byte     version (2)
//	byte     flags: bits 0-2 kind, 3 clock set, 4 corrected, 5 acked state, 6 has boot,
//	         7 has time source (always set in version 2)
//	uvarint  seq
//	varint   time, unix ms
//	varint   tz offset, seconds
//	string   tz, employee, name, badge, department  (uvarint length + bytes)
//	if boot:   string boot ID, uvarint since boot in ms
//	if acked:  varint acked-at, unix ms
//	byte     time source (sourceCodes), and if corrected: varint the time
//	         before the correction, unix ms (0: not known)
//	sections, zero or more, tags strictly ascending:
//	         byte tag, uvarint payload length, payload
//	4 bytes  CRC-32C (Castagnoli), little endian, of every byte before it
//
// Sections are how a later version adds a field without a rollback seeing
// damage: a reader skips a section whose tag it does not know, if the tag
// is below 0x80, and writes it back as it was when it rewrites the record
// (an ack, a clock correction). Tags 0x80 to 0xFF are "must understand":
// a reader that does not know one refuses the record as it refuses an
// unknown version (for a field an older version must not ignore, e.g. one
// that changes what the punch means; none exists yet, and writing one
// needs a release floor at or above the first version that reads it,
// docs/updates.md). Known sections:
//
//	'f' (0x66)  uvarint match score: a fingerprint punch and the module's
//	            confidence (only on such punches)
//
// The checksum makes a changed byte anywhere in the record damage, like a
// decode error (the open-time check sets the file aside and salvages the
// rest): a punch never reads back silently changed. A changed version
// byte is caught too: 1 reads the rest as version 1, whose strict layout
// leaves the sections and checksum as trailing bytes; anything else is an
// unknown version.
//
// Version 1, written until the checksum came, differs: no sections, no
// checksum, bit 7 optional (without it no source byte: the source is what
// bit 3 meant then, rtc-unverified when set, unset when not; firmware older
// than bit 7 refuses such records), and the fingerprint section as
// optional trailing bytes 'f' (0x66) and a uvarint match score without a
// length. Nothing writes it any more; acks and clock corrections rewrite a
// version 1 record as version 2.
const (
	recordVersion   = 2
	recordVersionV1 = 1
)

// crcTable is CRC-32C's (hardware on amd64 and arm64).
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// crcSize is the checksum trailer's length.
const crcSize = 4

// tagMustUnderstand: sections with a tag at or above it may not be skipped.
const tagMustUnderstand = 0x80

// tagFinger is the fingerprint section's tag (and version 1's trailing
// fingerprint bytes).
const tagFinger = 'f'

// maxScore bounds a match score (the modules report 16 bits).
const maxScore = 0xFFFF

const (
	flagKindMask   = 0x07
	flagClockSet   = 1 << 3
	flagCorrected  = 1 << 4
	flagAcked      = 1 << 5
	flagBoot       = 1 << 6
	flagSource     = 1 << 7
	flagsKnown     = 0xff
	maxStringBytes = 256
)

// sourceCodes are the time sources' bytes in a record; 0 is never written.
var sourceCodes = []clock.Source{1: clock.SourceNTP, 2: clock.SourceCloud, 3: clock.SourceRTC, 4: clock.SourceUnset}

func sourceCode(s clock.Source) (byte, bool) {
	for i, c := range sourceCodes {
		if i > 0 && c == s {
			return byte(i), true
		}
	}
	return 0, false
}

// legacySource is the source of a record written before bit 7: clock set
// meant only "the year is 2020 or later".
func legacySource(clockSet bool) clock.Source {
	if clockSet {
		return clock.SourceRTC
	}
	return clock.SourceUnset
}

// errRecord is wrapped by every decoding error.
var errRecord = errors.New("journal: bad record")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encode writes p (its ID is not stored: it is the file's nonce and Seq).
func encode(p Punch) ([]byte, error) {
	if !p.Kind.Valid() {
		return nil, fmt.Errorf("journal: punch kind %v", p.Kind)
	}
	for _, s := range []string{p.TZ, p.Employee, p.Name, p.Badge, p.Department, p.BootID} {
		if len(s) > maxStringBytes {
			return nil, fmt.Errorf("journal: field of %d bytes (at most %d)", len(s), maxStringBytes)
		}
	}
	// Refuse what decode would refuse: a record written must read back.
	if ms := p.Time.UnixMilli(); ms > maxMillis || ms < -maxMillis {
		return nil, fmt.Errorf("journal: time %v out of range", p.Time)
	}
	if p.SinceBoot < 0 || (p.BootID == "" && p.SinceBoot != 0) {
		return nil, fmt.Errorf("journal: since-boot %v without a boot ID or negative", p.SinceBoot)
	}
	if p.TZOffset > 18*3600 || p.TZOffset < -18*3600 {
		return nil, fmt.Errorf("journal: tz offset %d out of range", p.TZOffset)
	}
	if p.MatchScore < 0 || p.MatchScore > maxScore || (!p.Finger && p.MatchScore != 0) {
		return nil, fmt.Errorf("journal: match score %d (finger %v)", p.MatchScore, p.Finger)
	}
	src := p.Source
	if src == "" {
		src = legacySource(p.ClockSet)
	}
	code, ok := sourceCode(src)
	if !ok {
		return nil, fmt.Errorf("journal: time source %q", p.Source)
	}
	flags := byte(p.Kind) | flagSource
	if p.ClockSet {
		flags |= flagClockSet
	}
	if p.Corrected {
		flags |= flagCorrected
	}
	if p.State == StateAcked {
		flags |= flagAcked
	}
	boot := p.BootID != ""
	if boot {
		flags |= flagBoot
	}
	b := make([]byte, 0, 64)
	b = append(b, recordVersion, flags)
	b = binary.AppendUvarint(b, p.Seq)
	b = binary.AppendVarint(b, p.Time.UnixMilli())
	b = binary.AppendVarint(b, int64(p.TZOffset))
	for _, s := range []string{p.TZ, p.Employee, p.Name, p.Badge, p.Department} {
		b = appendString(b, s)
	}
	if boot {
		b = appendString(b, p.BootID)
		b = binary.AppendUvarint(b, uint64(p.SinceBoot.Milliseconds()))
	}
	if p.State == StateAcked {
		b = binary.AppendVarint(b, p.AckedAt.UnixMilli())
	}
	b = append(b, code)
	if p.Corrected {
		var orig int64
		if !p.OriginalTime.IsZero() {
			orig = p.OriginalTime.UnixMilli()
		}
		b = binary.AppendVarint(b, orig)
	}
	// The sections, by tag: the known ones and those kept from a later
	// version's record, merged.
	var known []section
	if p.Finger {
		known = append(known, section{tagFinger, binary.AppendUvarint(nil, uint64(p.MatchScore))})
	}
	kept := p.sections
	for _, s := range known {
		for kept != "" && kept[0] < s.tag {
			n := keptLen(kept)
			b, kept = append(b, kept[:n]...), kept[n:]
		}
		b = appendSection(b, s.tag, s.payload)
	}
	b = append(b, kept...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable)), nil
}

type section struct {
	tag     byte
	payload []byte
}

// keptLen is the length of the first of kept sections, which decode
// checked.
func keptLen(kept string) int {
	n, w := binary.Uvarint([]byte(kept[1:min(len(kept), 1+binary.MaxVarintLen64)]))
	return 1 + w + int(n)
}

// appendSection appends one section: tag, payload length, payload.
func appendSection(b []byte, tag byte, payload []byte) []byte {
	b = append(b, tag)
	b = binary.AppendUvarint(b, uint64(len(payload)))
	return append(b, payload...)
}

// reader decodes the fields in order, remembering the first error.
type reader struct {
	b   []byte
	err error
	// check: only check the bytes, build no strings (the open-time check
	// of every record allocates nothing per record); a string reads as ""
	// when empty, "-" when not.
	check bool
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errRecord, what)
	}
}

func (r *reader) uvarint(what string) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint(what string) int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str(what string) string {
	n := r.uvarint(what)
	if r.err != nil {
		return ""
	}
	if n > maxStringBytes || n > uint64(len(r.b)) {
		r.fail(what + " length")
		return ""
	}
	var s string
	switch {
	case !r.check:
		s = string(r.b[:n])
	case n > 0:
		s = "-"
	}
	r.b = r.b[n:]
	return s
}

// maxMillis bounds times to what time.UnixMilli round-trips (year ±292M).
const maxMillis = 1 << 62

func millis(r *reader, what string) time.Time {
	v := r.varint(what)
	if v > maxMillis || v < -maxMillis {
		r.fail(what + " out of range")
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// decode reads a record written by encode. Any damage is an error, never a
// panic or a half-filled punch.
func decode(b []byte) (Punch, error) { return decodeRecord(b, false) }

// checkRecord is decode without building the punch's strings: the same
// errors, for the check of every record at open.
func checkRecord(b []byte) (Punch, error) { return decodeRecord(b, true) }

func decodeRecord(b []byte, check bool) (Punch, error) {
	var p Punch
	if len(b) < 2 || (b[0] != recordVersion && b[0] != recordVersionV1) {
		return p, fmt.Errorf("%w: version", errRecord)
	}
	v2 := b[0] == recordVersion
	if v2 {
		if len(b) < 2+crcSize {
			return p, fmt.Errorf("%w: %d bytes", errRecord, len(b))
		}
		n := len(b) - crcSize
		if crc32.Checksum(b[:n], crcTable) != binary.LittleEndian.Uint32(b[n:]) {
			return p, fmt.Errorf("%w: checksum mismatch", errRecord)
		}
		b = b[:n]
	}
	flags := b[1]
	if flags&^flagsKnown != 0 {
		return p, fmt.Errorf("%w: flags %#x", errRecord, flags)
	}
	if v2 && flags&flagSource == 0 {
		return p, fmt.Errorf("%w: no time source", errRecord)
	}
	p.Kind = Kind(flags & flagKindMask)
	if !p.Kind.Valid() {
		return Punch{}, fmt.Errorf("%w: kind %d", errRecord, p.Kind)
	}
	p.ClockSet = flags&flagClockSet != 0
	p.Corrected = flags&flagCorrected != 0
	p.State = StatePending
	r := &reader{b: b[2:], check: check}
	p.Seq = r.uvarint("seq")
	p.Time = millis(r, "time")
	off := r.varint("tz offset")
	if off > 18*3600 || off < -18*3600 {
		r.fail("tz offset out of range")
	}
	p.TZOffset = int(off)
	p.TZ = r.str("tz")
	p.Employee = r.str("employee")
	p.Name = r.str("name")
	p.Badge = r.str("badge")
	p.Department = r.str("department")
	if flags&flagBoot != 0 {
		p.BootID = r.str("boot id")
		if p.BootID == "" {
			r.fail("empty boot id")
		}
		ms := r.uvarint("since boot")
		if ms > maxMillis/1_000_000 {
			r.fail("since boot out of range")
		}
		p.SinceBoot = time.Duration(ms) * time.Millisecond
	}
	if flags&flagAcked != 0 {
		p.State = StateAcked
		p.AckedAt = millis(r, "acked at")
	}
	p.Source = legacySource(p.ClockSet)
	if flags&flagSource != 0 && r.err == nil {
		if len(r.b) == 0 || int(r.b[0]) >= len(sourceCodes) || r.b[0] == 0 {
			r.fail("time source")
		} else {
			p.Source = sourceCodes[r.b[0]]
			r.b = r.b[1:]
			if p.Corrected {
				if orig := millis(r, "original time"); orig.UnixMilli() != 0 {
					p.OriginalTime = orig
				}
			}
		}
	}
	switch {
	case r.err != nil:
	case v2:
		r.sections(&p)
	case flags&flagSource != 0 && len(r.b) > 0 && r.b[0] == tagFinger:
		// Version 1's fingerprint bytes: 'f' and the score, no length.
		r.b = r.b[1:]
		r.score(&p)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Sprintf("%d trailing bytes", len(r.b)))
	}
	if r.err != nil {
		return Punch{}, r.err
	}
	return p, nil
}

// sections reads version 2's sections to the end of the record.
func (r *reader) sections(p *Punch) {
	prev := -1
	for len(r.b) > 0 && r.err == nil {
		whole := r.b
		tag := r.b[0]
		if int(tag) <= prev {
			r.fail(fmt.Sprintf("section %#x out of order", tag))
			return
		}
		prev = int(tag)
		r.b = r.b[1:]
		n := r.uvarint("section length")
		if r.err != nil {
			return
		}
		if n > uint64(len(r.b)) {
			r.fail(fmt.Sprintf("section %#x length", tag))
			return
		}
		payload, rest := r.b[:n], r.b[n:]
		switch {
		case tag == tagFinger:
			r.b = payload
			r.score(p)
			if r.err == nil && len(r.b) != 0 {
				r.fail("match score section length")
			}
		case tag >= tagMustUnderstand:
			r.fail(fmt.Sprintf("section %#x needs a newer version", tag))
		case !r.check:
			// A later version's field: kept as it is, for a rewrite.
			p.sections += string(whole[:len(whole)-len(rest)])
		}
		r.b = rest
	}
}

// score reads a fingerprint punch's match score.
func (r *reader) score(p *Punch) {
	score := r.uvarint("match score")
	if score > maxScore {
		r.fail("match score out of range")
	}
	p.Finger, p.MatchScore = true, int(score)
}

// last is what the journal keeps per subject (employee or raw badge) to
// infer IN/OUT and spot duplicates without scanning punches.
//
//	uvarint seq, byte kind, varint time (unix ms), string department
type last struct {
	Seq        uint64
	Kind       Kind
	Time       time.Time
	Department string
}

func encodeLast(l last) []byte {
	b := binary.AppendUvarint(nil, l.Seq)
	b = append(b, byte(l.Kind))
	b = binary.AppendVarint(b, l.Time.UnixMilli())
	return appendString(b, l.Department)
}

func decodeLast(b []byte) (last, error) {
	var l last
	r := &reader{b: b}
	l.Seq = r.uvarint("seq")
	if r.err == nil {
		if len(r.b) == 0 {
			r.fail("kind")
		} else {
			l.Kind = Kind(r.b[0])
			r.b = r.b[1:]
			if !l.Kind.Valid() {
				r.fail("kind")
			}
		}
	}
	l.Time = millis(r, "time")
	l.Department = r.str("department")
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return last{}, r.err
	}
	return l, nil
}
