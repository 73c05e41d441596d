package mosquitto

import (
	"bytes"
	"fmt"
	"slices"

	"timeclock/wire"
)

// ACL is the broker's access list: the cloud may use every clock's topics;
// a clock (user name = device ID) only its own, in the protocol's
// directions, as cloud/broker allows; a disabled clock nothing at all.
func ACL(disabled []string) []byte {
	var b bytes.Buffer
	b.WriteString("# Written by timeclock-cloud; rewritten when a clock is disabled or onboarded. Do not edit.\n\n")
	fmt.Fprintf(&b, "# The cloud.\nuser %s\ntopic readwrite %s#\n\n", CloudIdentity, wire.TopicPrefix)
	b.WriteString("# Every clock: its own topics (user name = certificate CN = device ID).\n")
	for _, s := range []string{wire.TopicPunches, wire.TopicStatus, wire.TopicCmdResult, wire.TopicBiometrics} {
		fmt.Fprintf(&b, "pattern write %s%%u/%s\n", wire.TopicPrefix, s)
	}
	for _, s := range []string{wire.TopicAck, wire.TopicCmd} {
		fmt.Fprintf(&b, "pattern read %s%%u/%s\n", wire.TopicPrefix, s)
	}
	ids := slices.Clone(disabled)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > 0 {
		b.WriteString("\n# Disabled clocks: nothing.\n")
	}
	for _, id := range ids {
		if !aclSafe(id) {
			continue // never from our CA; skipped rather than break the file
		}
		fmt.Fprintf(&b, "user %s\ntopic deny %s#\n", id, wire.TopicPrefix)
	}
	return b.Bytes()
}

// aclSafe keeps ACL lines to plain tokens (device IDs are hex).
func aclSafe(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
