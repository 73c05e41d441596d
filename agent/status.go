package agent

import (
	"fmt"
	"strconv"
	"time"

	"timeclock/clock"
)

// Status is the clock's state as the console's "status", the sim socket's
// "status" and the cloud check-in report it.
type Status struct {
	State    State
	Model    string
	Version  string
	DeviceID string // empty until onboarded
	Cloud    string // "standalone", "online", "offline"
	Pending  int
	// NTPSynced: the kernel reports the clock NTP-synchronised, so its
	// time is known to be right. Status shows it under the key "synced",
	// which the console's and the sim socket's readers know.
	NTPSynced  bool
	Network    string
	LastUsedBy string
	Uptime     time.Duration
	// Nickname and Timezone come with the identity; Onboarding names the
	// onboarding step while the clock is being onboarded.
	Nickname   string
	Timezone   string
	Onboarding string
	// Clock is how the time is known (the keeper's view).
	Clock clock.State
	// Fingerprint is the fingerprint sensor's state: none, connected,
	// not answering, unplugged, refused.
	Fingerprint string
}

// ClockWarnAbove is the offset to cloud time that status warns about.
const ClockWarnAbove = 60 * time.Second

// Field is one status key and its value as text.
type Field struct {
	Key, Value string
	raw        any
}

// Fields lists the status as ordered key=value pairs; the console prints them
// one per line and the sim socket returns them as one JSON object.
func (s Status) Fields() []Field {
	f := func(k string, v any) Field { return Field{Key: k, Value: fmt.Sprint(v), raw: v} }
	dev := s.DeviceID
	if dev == "" {
		dev = "none"
	}
	netw := s.Network
	if netw == "" {
		netw = "none"
	}
	offset := Field{Key: "clock_offset_ms", Value: "unknown"}
	warn := false
	if s.Clock.OffsetKnown {
		ms := s.Clock.Offset.Milliseconds()
		offset = f("clock_offset_ms", ms)
		warn = s.Clock.Offset > ClockWarnAbove || s.Clock.Offset < -ClockWarnAbove
	}
	return []Field{
		f("state", s.State.String()),
		f("pending", s.Pending),
		f("synced", s.NTPSynced),
		f("network", netw),
		f("cloud", s.Cloud),
		f("device_id", dev),
		f("model", s.Model),
		f("version", s.Version),
		f("last_used_by", s.LastUsedBy),
		f("uptime", strconv.FormatInt(int64(s.Uptime.Seconds()), 10)+"s"),
		f("nickname", s.Nickname),
		f("timezone", s.Timezone),
		f("onboarding", s.Onboarding),
		// The time keys come last: readers of the keys above see them
		// where they always were.
		f("clock_source", string(s.Clock.Source)),
		offset,
		f("clock_warning", warn),
		f("clock_refused", s.Clock.Refused),
		f("fingerprint", s.Fingerprint),
	}
}

// Map is the status as a JSON-ready object with typed values.
func (s Status) Map() map[string]any {
	m := map[string]any{}
	for _, f := range s.Fields() {
		m[f.Key] = f.raw
	}
	return m
}
