package store

// Every bucket and key in the state file is listed here and only here, so a
// technician (or a migration) can see the whole layout at a glance. Integers
// are 8-byte big-endian unless a line says otherwise.
//
//	meta/                       the file's own facts
//	  schema                    uint64 layout version (SchemaVersion)
//	  created                   int64 unix ms when this file was started
//	  nonce                     8 random bytes: the first half of every punch ID of this file
//	  nonce_check               12 bytes: the nonce again and its CRC-32C (Castagnoli), big-endian: a
//	                            changed bit in the nonce would silently give every punch a new ID (the
//	                            cloud would store each again); the check copy proves which is right
//	                            (added after schema 1: written at the first open when absent)
//	  last_seq                  uint64 the highest punch sequence number handed out
//	  pending                   uint64 how many punches are pending (so status never scans)
//	  unset_clock               uint64 how many punches wait for a clock correction
//	  last_used_by              UTF-8 name of the employee who punched last
//	  recovered                 JSON Notice: a damaged file was salvaged and set aside (or the file was
//	                            lost) when this one started
//	  rebuild                   uint64 1: this file was salvaged; the journal recounts its punches
//	                            (pending, unset_clock, last_punch) from the records at its next open,
//	                            then deletes the key (added after schema 1)
//	  last_good_time            int64 unix ms: the last time a trusted source (NTP, the cloud) vouched for,
//	                            saved every few minutes and at shutdown; the time floor never goes below it
//	                            (added after schema 1: absent in older files)
//	  timezone                  UTF-8 IANA zone set at the console of a standalone clock; it wins over
//	                            the config file's (added after schema 1: absent in older files)
//	  disabled                  JSON: the administrator disabled the clock ("disabling" while the last
//	                            transmission goes, then "disabled"); absent when the clock is enabled
//	punches_pending/            seq -> record (journal encoding) not yet acknowledged by the cloud
//	punches_synced/             seq -> record acked (acknowledged) by the cloud, kept for the technician
//	unset_clock/                seq -> boot ID (16 bytes) of punches whose time nothing vouched for (taken
//	                            before the clock was set, or on an unverified RTC), waiting for correction
//	corrections/                seq -> empty: punches corrected whose corrected time the cloud has not yet
//	                            confirmed storing (its ack's "corrected" list) (added after schema 1)
//	last_punch/                 subject -> last punch of that subject (journal's "last" encoding);
//	                            subject is "e:" + employee ID, or "b:" + raw badge number
//	roster/                     the roster's header (version 0 after a salvage: any roster replaces it)
//	  version                   uint64 roster version
//	  salt                      bytes: the PIN hash key of this roster
//	  source_sha256             32 bytes: hash of the roster file last imported (skip unchanged files)
//	roster_employees/           employee ID -> employee (roster's JSON encoding, PIN as salted hash)
//	commands/                   cloud command ID -> JSON {at, result}: commands already carried out, so
//	                            a command delivered again (retained, resent) is answered, not re-applied;
//	                            kept a week (added after schema 1: created when missing)
//	fingers/                    sensor slot (uint64) -> JSON fingers.Enrollment: whose template the
//	                            fingerprint module keeps in that slot, the consent (time, supervisor);
//	                            never the template itself, which stays on the module (added after schema 1)
//	finger_reports/             seq (uint64) -> JSON fingers.Report: consent and deletion records not yet
//	                            acknowledged by the cloud (added after schema 1)
var (
	BucketMeta           = []byte("meta")
	BucketPunchesPending = []byte("punches_pending")
	// The acked punches' bucket keeps the name it had when "synced" also
	// meant "acked": files already on clocks must open unchanged.
	BucketPunchesAcked    = []byte("punches_synced")
	BucketUnsetClock      = []byte("unset_clock")
	BucketLastPunch       = []byte("last_punch")
	BucketRoster          = []byte("roster")
	BucketRosterEmployees = []byte("roster_employees")
	BucketCommands        = []byte("commands")
	BucketCorrections     = []byte("corrections")
	BucketFingers         = []byte("fingers")
	BucketFingerReports   = []byte("finger_reports")
)

// Keys of BucketMeta.
var (
	KeySchema     = []byte("schema")
	KeyCreated    = []byte("created")
	KeyNonce      = []byte("nonce")
	KeyNonceCheck = []byte("nonce_check")
	KeyLastSeq    = []byte("last_seq")
	KeyPending    = []byte("pending")
	KeyUnsetClock = []byte("unset_clock")
	KeyLastUsedBy = []byte("last_used_by")
	KeyRecovered  = []byte("recovered")
	KeyRebuild    = []byte("rebuild")
	KeyDisabled   = []byte("disabled")
	KeyLastGood   = []byte("last_good_time")
	KeyTimezone   = []byte("timezone")
)

// Keys of BucketRoster.
var (
	KeyRosterVersion = []byte("version")
	KeyRosterSalt    = []byte("salt")
	KeyRosterSource  = []byte("source_sha256")
)

// Prefixes of BucketLastPunch subjects.
const (
	SubjectEmployee = "e:"
	SubjectBadge    = "b:"
)

// SchemaVersion is the layout above. A file with another version is not
// guessed at: it is set aside like a damaged one.
const SchemaVersion = 1

// buckets are created in every new file.
var buckets = [][]byte{
	BucketMeta, BucketPunchesPending, BucketPunchesAcked, BucketUnsetClock,
	BucketLastPunch, BucketRoster, BucketRosterEmployees,
}

// addedBuckets came after schema 1 was fixed: a file without them is
// sound, and Open adds them. New buckets go here, not in buckets.
// Beside the file: state.db.present (MarkerName), written once the clock
// has a state file; state.db.salvage, a salvaged file being put in place;
// state.db.damaged-YYYYMMDDTHHMMSSZ[-N], what was set aside (KeepAside kept).
var addedBuckets = [][]byte{BucketCommands, BucketCorrections, BucketFingers, BucketFingerReports}
