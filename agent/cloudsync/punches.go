package cloudsync

import (
	"encoding/json"

	"timeclock/agent/journal"
	"timeclock/wire"
)

// wirePunch is a journal punch as it travels to the cloud.
func wirePunch(p journal.Punch) wire.Punch {
	w := wire.Punch{
		ID:         p.ID.String(),
		Seq:        p.Seq,
		Employee:   p.Employee,
		Badge:      p.Badge,
		Kind:       wire.PunchKind(p.Kind.String()),
		Department: p.Department,
		Time:       p.Time.UTC(),
		TZ:         p.TZ,
		TZOffset:   p.TZOffset,
		ClockSet:   p.ClockSet,
		Corrected:  p.Corrected,
		TimeSource: string(p.Source),
	}
	if p.Finger {
		w.Method, w.MatchScore = wire.MethodFinger, p.MatchScore
	}
	if p.Corrected {
		w.OriginalTime = p.OriginalTime.UTC()
	}
	if p.BootID != "" && !p.Corrected && !p.Source.Known() {
		// Not yet corrected: the cloud can still place the punch in time
		// from the boot and the time since boot.
		w.BootID, w.MonoNS = p.BootID, int64(p.SinceBoot)
	}
	return w
}

// batchPunches converts a run of journal punches.
func batchPunches(ps []journal.Punch) []wire.Punch {
	out := make([]wire.Punch, len(ps))
	for i, p := range ps {
		out[i] = wirePunch(p)
	}
	return out
}

// EncodeBatch is a punches message as the clock publishes it (the
// benchmarks publish the same bytes for their raw baseline).
func EncodeBatch(batch uint64, ps []journal.Punch, final bool) []byte {
	return encodeBatch(wire.PunchBatch{Batch: batch, Punches: batchPunches(ps), Final: final})
}

func encodeBatch(b wire.PunchBatch) []byte {
	out, err := json.Marshal(b)
	if err != nil {
		panic("cloudsync: encoding a punch batch: " + err.Error()) // our own wire types always encode
	}
	return out
}
