package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// MQTT topics live under TopicPrefix + deviceID + "/". A device may publish
// and subscribe only under its own prefix; the broker enforces it.
const TopicPrefix = "tc/v1/"

// Topic suffixes under a device's prefix.
const (
	TopicPunches    = "punches"    // up, QoS 1: PunchBatch
	TopicAck        = "ack"        // down: Ack
	TopicStatus     = "status"     // up, retained, last will: Status
	TopicCmd        = "cmd"        // down, retained: Command
	TopicCmdResult  = "cmd/result" // up: CommandResult
	TopicBiometrics = "biometrics" // up, QoS 1: BiometricReports (consent and deletion records; no biometric data)
)

// Topic returns the full topic of a device's channel.
func Topic(deviceID, suffix string) string { return TopicPrefix + deviceID + "/" + suffix }

// SplitTopic returns the device ID and the suffix of a topic under
// TopicPrefix, or ok=false.
func SplitTopic(topic string) (deviceID, suffix string, ok bool) {
	rest, ok := strings.CutPrefix(topic, TopicPrefix)
	if !ok {
		return "", "", false
	}
	deviceID, suffix, ok = strings.Cut(rest, "/")
	if !ok || deviceID == "" || suffix == "" {
		return "", "", false
	}
	return deviceID, suffix, true
}

// PunchKind is what a punch records.
type PunchKind string

// Punch kinds.
const (
	KindIn    PunchKind = "IN"
	KindOut   PunchKind = "OUT"
	KindBreak PunchKind = "BREAK"
	KindLunch PunchKind = "LUNCH"
)

// Valid reports whether k is one of the four kinds.
func (k PunchKind) Valid() bool {
	return k == KindIn || k == KindOut || k == KindBreak || k == KindLunch
}

// Punch is one punch as it travels to the cloud.
type Punch struct {
	ID         string    `json:"id"`  // device-made, unique
	Seq        uint64    `json:"seq"` // per-device, strictly increasing
	Employee   string    `json:"employee,omitempty"`
	Badge      string    `json:"badge,omitempty"` // the raw badge of an unassigned punch
	Kind       PunchKind `json:"kind"`
	Department string    `json:"dept,omitempty"`
	Time       time.Time `json:"time"`      // UTC
	TZ         string    `json:"tz"`        // IANA name the clock showed
	TZOffset   int       `json:"tz_offset"` // seconds east of UTC at Time
	ClockSet   bool      `json:"clock_set"` // the clock's time was set when punched (was "synced": see UnmarshalJSON)
	Corrected  bool      `json:"corrected,omitempty"`
	BootID     string    `json:"boot_id,omitempty"` // clock not set and not yet corrected
	MonoNS     int64     `json:"mono_ns,omitempty"` // CLOCK_BOOTTIME at the punch
	// TimeSource says how the clock knew the time when punched: "ntp",
	// "cloud", "rtc-unverified" or "unset" (TimeSources); absent from
	// clocks older than it (ClockSet is all they say).
	TimeSource string `json:"time_source,omitempty"`
	// OriginalTime is, on a corrected punch, the time the clock stamped
	// before it knew the true time (absent when not known).
	OriginalTime time.Time `json:"original_time,omitzero"`
	// Method is MethodFinger for a punch by fingerprint (absent for badge
	// and PIN); MatchScore is then the module's match confidence. Never
	// the template: it stays on the clock's module.
	Method     string `json:"method,omitempty"`
	MatchScore int    `json:"match_score,omitempty"`
}

// MethodFinger is Punch.Method of a punch by fingerprint.
const MethodFinger = "finger"

// TimeSources are the values of Punch.TimeSource and Status.ClockSource,
// most trusted first (the clock package's Source names).
var TimeSources = []string{"ntp", "cloud", "rtc-unverified", "unset"}

// UnmarshalJSON reads a punch, taking ClockSet under its old name "synced"
// too: clocks in the field send it, and punches the cloud stored before the
// rename carry it. ("synced" also meant "acknowledged" and "NTP-synchronised"
// elsewhere; the wire now says what it means.) A type that embeds Punch gets
// this method promoted and must decode its own fields (see cloud/store.Punch).
func (p *Punch) UnmarshalJSON(b []byte) error {
	type plain Punch // without this method
	var v struct {
		plain
		Synced bool `json:"synced"` // ClockSet before the rename
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Punch(v.plain)
	p.ClockSet = p.ClockSet || v.Synced
	return nil
}

// PunchBatch is one message on the punches topic.
type PunchBatch struct {
	Batch   uint64  `json:"batch"` // per-connection batch number, echoed in the Ack
	Punches []Punch `json:"punches"`
	Final   bool    `json:"final,omitempty"` // the last transmission before disable
}

// Ack is the cloud's answer to a batch: the IDs it stored (durably). A
// punch leaves the clock's journal only when an Ack names it.
type Ack struct {
	Batch uint64   `json:"batch"`
	IDs   []string `json:"ids"`
	// HighSeq is the highest sequence number the cloud has stored for the device.
	HighSeq uint64 `json:"high_seq"`
	// Corrected names the punches of the batch whose corrected time the
	// cloud has stored (now or before); a clock keeps sending a correction
	// until an ack names it here.
	Corrected []string `json:"corrected,omitempty"`
	// Time is the cloud's clock when it sent the ack: authenticated time
	// (the broker's TLS) the clock sets itself by. Absent from older clouds.
	Time time.Time `json:"time,omitzero"`
	// Biometrics names the biometric records (BiometricReport.Seq) the
	// cloud has stored; such an ack has no batch, IDs or time.
	Biometrics []uint64 `json:"biometrics,omitempty"`
}

// Status is the clock's check-in, retained; its last will is the same with
// Online false.
type Status struct {
	DeviceID   string `json:"device_id"`
	Online     bool   `json:"online"`
	Nickname   string `json:"nickname,omitempty"`
	Model      string `json:"model,omitempty"`
	Firmware   string `json:"firmware,omitempty"`
	LastUsedBy string `json:"last_used_by,omitempty"`
	Pending    int    `json:"pending"`
	OldestAge  int64  `json:"oldest_pending_age_s"` // seconds; 0 when nothing is pending
	// NTPSynced: the clock's kernel reports its time NTP-synchronised (was
	// "clock_synced": see UnmarshalJSON).
	NTPSynced bool      `json:"ntp_synced"`
	Interface string    `json:"interface,omitempty"`
	Time      time.Time `json:"time"`
	// ClockSource is how the clock knows its time (TimeSources); absent
	// from older clocks.
	ClockSource string `json:"clock_source,omitempty"`
	// ClockOffsetMS is the cloud's time minus the clock's at its last
	// measure, in milliseconds; nil until measured.
	ClockOffsetMS *int64 `json:"clock_offset_ms,omitempty"`
	// TimeRefused counts cloud time samples the clock refused (below its
	// time floor or 20 years above it).
	TimeRefused int `json:"time_refused,omitempty"`
	// Storage says the clock found its state file damaged or lost at a
	// start ("storage damaged at ...: reason; N records salvaged, M
	// unreadable" or "storage lost at ...: reason"), until service clears
	// the notice at the clock; empty when sound. Absent from older clocks.
	// At most MaxStorageLen bytes (a clock clips it: ClipStorage).
	Storage string `json:"storage,omitempty"`
	// RosterVersion is the version of the roster the clock holds now: 0
	// when it has none (new, or its roster was salvaged from a damaged
	// state file or lost with it). nil (the field absent) is a clock that
	// does not report it (older firmware), never "none". A cloud that
	// believes the clock confirmed another version forgets that and sends
	// it the full roster (docs/protocol.md).
	RosterVersion *uint64 `json:"roster_version,omitempty"`
}

// UnmarshalJSON reads a check-in, taking NTPSynced under its old name
// "clock_synced" too, which clocks in the field send.
func (s *Status) UnmarshalJSON(b []byte) error {
	type plain Status // without this method
	var v struct {
		plain
		ClockSynced bool `json:"clock_synced"` // NTPSynced before the rename
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Status(v.plain)
	s.NTPSynced = s.NTPSynced || v.ClockSynced
	return nil
}

// CommandType names a command.
type CommandType string

// The commands a cloud sends.
const (
	CmdDisable  CommandType = "disable"
	CmdRename   CommandType = "rename"
	CmdRoster   CommandType = "roster"
	CmdTimezone CommandType = "timezone"
	CmdReboot   CommandType = "reboot"
	// CmdDeleteBiometrics deletes an employee's fingerprint templates
	// from the clock's module (Command.Employee); the clock reports the
	// deletion on TopicBiometrics.
	CmdDeleteBiometrics CommandType = "delete_biometrics"
)

// Command is one message on the cmd topic.
type Command struct {
	ID       string          `json:"id"`
	Type     CommandType     `json:"type"`
	Nickname string          `json:"nickname,omitempty"` // rename
	Timezone string          `json:"timezone,omitempty"` // timezone
	Roster   json.RawMessage `json:"roster,omitempty"`   // roster: decoded by the clock's roster package
	Employee string          `json:"employee,omitempty"` // delete_biometrics
	By       string          `json:"by,omitempty"`       // who issued it
	Issued   time.Time       `json:"issued"`
	// Time is the cloud's clock when it published the command (Issued is
	// when it was made; a retained command is delivered long after). A
	// clock takes it as a time sample only from a message not retained.
	Time time.Time `json:"time,omitzero"`
}

// CommandResult answers a Command.
type CommandResult struct {
	ID     string `json:"id"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	Detail string `json:"detail,omitempty"`
	// FinalSeq is set when a disable completed: the last sequence number the
	// cloud acknowledged before the clock erased its credentials.
	FinalSeq uint64 `json:"final_seq,omitempty"`
}

// Limits on what decoders accept.
const (
	MaxBatch   = 2000    // punches in one batch
	MaxPayload = 1 << 20 // bytes of one message
	// MaxPending is the most punches a clock may hold unacknowledged (the
	// ceiling of its capacity setting): a punch's seq is at most this far
	// beyond the highest the cloud stored from the clock.
	MaxPending  = 2_000_000
	maxIDLen    = 64
	maxFieldLen = 128
	// MaxStorageLen bounds a check-in's Storage notice in bytes: a clock
	// clips its notice to it (ClipStorage), the cloud refuses a longer one.
	MaxStorageLen = 512
)

// ErrPayload wraps every decoding failure.
var ErrPayload = errors.New("bad payload")

func payloadErr(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrPayload, what, err)
}

func decode(b []byte, what string, v any) error {
	if len(b) > MaxPayload {
		return payloadErr(what, fmt.Errorf("%d bytes, at most %d", len(b), MaxPayload))
	}
	if err := json.Unmarshal(b, v); err != nil {
		return payloadErr(what, err)
	}
	return nil
}

func checkID(what, id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("%s: %d characters, want 1-%d", what, len(id), maxIDLen)
	}
	for _, c := range id {
		if c < '!' || c > '~' || c == '/' || c == '+' || c == '#' {
			return fmt.Errorf("%s %q: only printable ASCII without / + #", what, id)
		}
	}
	return nil
}

// Validate checks one punch.
func (p Punch) Validate() error {
	if err := checkID("id", p.ID); err != nil {
		return err
	}
	if p.Seq == 0 {
		return errors.New("seq: 0")
	}
	if !p.Kind.Valid() {
		return fmt.Errorf("kind %q: want IN, OUT, BREAK or LUNCH", p.Kind)
	}
	if p.Employee == "" && p.Badge == "" {
		return errors.New("neither employee nor badge")
	}
	if len(p.Employee) > maxFieldLen || len(p.Badge) > maxFieldLen || len(p.Department) > maxFieldLen || len(p.TZ) > maxFieldLen || len(p.BootID) > maxFieldLen {
		return errors.New("a field is too long")
	}
	if p.Time.IsZero() {
		return errors.New("time: missing")
	}
	if p.TZOffset < -18*3600 || p.TZOffset > 18*3600 {
		return fmt.Errorf("tz_offset %d out of range", p.TZOffset)
	}
	if p.Method != "" && p.Method != MethodFinger {
		return fmt.Errorf("method %q: want %q or none", p.Method, MethodFinger)
	}
	if p.MatchScore < 0 || p.MatchScore > 0xFFFF || (p.Method == "" && p.MatchScore != 0) {
		return fmt.Errorf("match_score %d: want 0-65535, with method finger only", p.MatchScore)
	}
	if p.TimeSource != "" && !slices.Contains(TimeSources, p.TimeSource) {
		return fmt.Errorf("time_source %q: want one of %v", p.TimeSource, TimeSources)
	}
	if !p.OriginalTime.IsZero() && !p.Corrected {
		return errors.New("original_time on a punch not corrected")
	}
	return nil
}

// DecodePunchBatch decodes and checks a punches message.
func DecodePunchBatch(b []byte) (PunchBatch, error) {
	var pb PunchBatch
	if err := decode(b, "punch batch", &pb); err != nil {
		return pb, err
	}
	if len(pb.Punches) > MaxBatch {
		return pb, payloadErr("punch batch", fmt.Errorf("%d punches, at most %d", len(pb.Punches), MaxBatch))
	}
	for i, p := range pb.Punches {
		if err := p.Validate(); err != nil {
			return pb, payloadErr(fmt.Sprintf("punch batch: punches[%d]", i), err)
		}
	}
	return pb, nil
}

// DecodeAck decodes and checks an ack message.
func DecodeAck(b []byte) (Ack, error) {
	var a Ack
	if err := decode(b, "ack", &a); err != nil {
		return a, err
	}
	if len(a.IDs) > MaxBatch {
		return a, payloadErr("ack", fmt.Errorf("%d ids, at most %d", len(a.IDs), MaxBatch))
	}
	for i, id := range a.IDs {
		if err := checkID("id", id); err != nil {
			return a, payloadErr(fmt.Sprintf("ack: ids[%d]", i), err)
		}
	}
	if len(a.Corrected) > MaxBatch {
		return a, payloadErr("ack", fmt.Errorf("%d corrected ids, at most %d", len(a.Corrected), MaxBatch))
	}
	if len(a.Biometrics) > MaxBiometricReports {
		return a, payloadErr("ack", fmt.Errorf("%d biometric records, at most %d", len(a.Biometrics), MaxBiometricReports))
	}
	for i, id := range a.Corrected {
		if err := checkID("id", id); err != nil {
			return a, payloadErr(fmt.Sprintf("ack: corrected[%d]", i), err)
		}
	}
	return a, nil
}

// DecodeStatus decodes and checks a status message.
func DecodeStatus(b []byte) (Status, error) {
	var s Status
	if err := decode(b, "status", &s); err != nil {
		return s, err
	}
	if err := checkID("device_id", s.DeviceID); err != nil {
		return s, payloadErr("status", err)
	}
	if s.Pending < 0 || s.OldestAge < 0 {
		return s, payloadErr("status", errors.New("negative pending or age"))
	}
	if s.ClockSource != "" && !slices.Contains(TimeSources, s.ClockSource) {
		return s, payloadErr("status", fmt.Errorf("clock_source %q", s.ClockSource))
	}
	if len(s.Nickname) > maxFieldLen || len(s.Model) > maxFieldLen || len(s.Firmware) > maxFieldLen || len(s.LastUsedBy) > maxFieldLen || len(s.Interface) > maxFieldLen {
		return s, payloadErr("status", errors.New("a field is too long"))
	}
	if len(s.Storage) > MaxStorageLen {
		return s, payloadErr("status", fmt.Errorf("storage notice of %d bytes (at most %d)", len(s.Storage), MaxStorageLen))
	}
	return s, nil
}

// ClipStorage shortens a storage notice to MaxStorageLen bytes, on a
// character boundary, ending in "..." when it cut.
func ClipStorage(n string) string {
	if len(n) <= MaxStorageLen {
		return n
	}
	cut := MaxStorageLen - len("...")
	for cut > 0 && !utf8.RuneStart(n[cut]) {
		cut--
	}
	return n[:cut] + "..."
}

// DecodeCommand decodes and checks a command message. An unknown type is
// an error the clock reports in its CommandResult.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if err := decode(b, "command", &c); err != nil {
		return c, err
	}
	if err := checkID("id", c.ID); err != nil {
		return c, payloadErr("command", err)
	}
	switch c.Type {
	case CmdDisable, CmdReboot:
	case CmdRename:
		if n := strings.TrimSpace(c.Nickname); n == "" || len(n) > maxFieldLen {
			return c, payloadErr("command", errors.New("rename: nickname must be 1-128 characters"))
		}
	case CmdTimezone:
		if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
			return c, payloadErr("command", fmt.Errorf("timezone %q: not an IANA zone", c.Timezone))
		}
	case CmdRoster:
		if len(c.Roster) == 0 {
			return c, payloadErr("command", errors.New("roster: missing"))
		}
	case CmdDeleteBiometrics:
		if c.Employee == "" || len(c.Employee) > MaxEmployeeIDLen {
			return c, payloadErr("command", fmt.Errorf("delete_biometrics: employee must be 1-%d characters", MaxEmployeeIDLen))
		}
	default:
		return c, payloadErr("command", fmt.Errorf("unknown type %q", c.Type))
	}
	return c, nil
}

// DecodeCommandResult decodes and checks a command result.
func DecodeCommandResult(b []byte) (CommandResult, error) {
	var r CommandResult
	if err := decode(b, "command result", &r); err != nil {
		return r, err
	}
	if err := checkID("id", r.ID); err != nil {
		return r, payloadErr("command result", err)
	}
	return r, nil
}
