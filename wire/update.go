package wire

import (
	"fmt"
	"slices"
)

// The update API (docs/updates.md), on the cloud's HTTPS port; a clock
// authenticates with its device certificate.
const (
	// PathUpdateReport takes an UpdateReport (POST) and answers an
	// UpdateReply: the clock's check-in for updates, and how it reports an
	// update's progress and outcome.
	PathUpdateReport = "/api/v1/device/update"
	// PathUpdateArtifact + release ID serves a release's signed artifact
	// (GET, with HTTP Range for a resumed download).
	PathUpdateArtifact = "/api/v1/device/releases/"
)

// Update states, as the clock reports them and the cloud shows them.
const (
	UpdateOffered     = "offered" // the cloud's own: assigned, not yet reported on
	UpdateDownloading = "downloading"
	UpdateInstalling  = "installing"
	UpdateTrial       = "trial"
	UpdateCommitted   = "committed"
	UpdateRolledBack  = "rolled-back"
	UpdateRefused     = "refused" // the artifact failed a check; nothing changed
	UpdateFailed      = "failed"  // the install stopped (space, I/O, power cut); nothing changed
	UpdateIdle        = "idle"
)

// UpdateStates are the states a clock may report.
var UpdateStates = []string{UpdateIdle, UpdateDownloading, UpdateInstalling, UpdateTrial, UpdateCommitted, UpdateRolledBack, UpdateRefused, UpdateFailed}

// UpdateReport is the clock's update check-in.
type UpdateReport struct {
	Version string `json:"version"` // the version running
	Arch    string `json:"arch"`    // release.Platform of the running binary
	Model   string `json:"model"`
	Slot    string `json:"slot,omitempty"` // "a" or "b"; empty when not running from a slot
	// Release, State, Percent and Reason are about the last update this
	// clock was offered (empty State: none).
	Release string `json:"release,omitempty"`
	State   string `json:"state,omitempty"`
	Percent int    `json:"percent,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// UpdateOffer names a release the clock should install.
type UpdateOffer struct {
	Release string `json:"release"` // the cloud's release ID
	Version string `json:"version"`
	Size    int64  `json:"size"` // bytes of the artifact
}

// UpdateReply answers an UpdateReport: the report is stored (a clock may
// take that as the cloud's acknowledgement), and Offer is set when the
// cloud wants this clock to install a release.
type UpdateReply struct {
	Stored bool         `json:"stored"`
	Offer  *UpdateOffer `json:"offer,omitempty"`
}

// Validate checks a report's fields.
func (r UpdateReport) Validate() error {
	for _, f := range []struct{ name, v string }{{"version", r.Version}, {"arch", r.Arch}, {"model", r.Model}} {
		if f.v == "" || len(f.v) > maxFieldLen {
			return fmt.Errorf("%s: 1-%d characters", f.name, maxFieldLen)
		}
	}
	if r.Slot != "" && r.Slot != "a" && r.Slot != "b" {
		return fmt.Errorf("slot %q: want a or b", r.Slot)
	}
	if r.State != "" && !slices.Contains(UpdateStates, r.State) {
		return fmt.Errorf("state %q: want one of %v", r.State, UpdateStates)
	}
	if r.State != "" && r.State != UpdateIdle {
		if err := checkID("release", r.Release); err != nil {
			return err
		}
	}
	if r.Percent < 0 || r.Percent > 100 {
		return fmt.Errorf("percent %d: want 0-100", r.Percent)
	}
	if len(r.Reason) > 512 {
		return fmt.Errorf("reason: %d bytes, at most 512", len(r.Reason))
	}
	return nil
}

// DecodeUpdateReport decodes and validates a report.
func DecodeUpdateReport(b []byte) (UpdateReport, error) {
	var r UpdateReport
	if err := decode(b, "update report", &r); err != nil {
		return r, err
	}
	if err := r.Validate(); err != nil {
		return r, payloadErr("update report", err)
	}
	return r, nil
}

// DecodeUpdateReply decodes and validates the cloud's reply.
func DecodeUpdateReply(b []byte) (UpdateReply, error) {
	var r UpdateReply
	if err := decode(b, "update reply", &r); err != nil {
		return r, err
	}
	if o := r.Offer; o != nil {
		if err := checkID("release", o.Release); err != nil {
			return r, payloadErr("update reply", err)
		}
		if o.Version == "" || len(o.Version) > maxFieldLen || o.Size <= 0 {
			return r, payloadErr("update reply", fmt.Errorf("offer: version %q, size %d", o.Version, o.Size))
		}
	}
	return r, nil
}
