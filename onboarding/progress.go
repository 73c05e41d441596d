package onboarding

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"timeclock/wire"
)

// progressFile (in STATE_DIR) keeps an unfinished onboarding across a
// reboot: the resume point by name, the confirmed company and the code
// session. Never the typed code.
const progressFile = "onboarding.json"

const progressVersion = 1

type progress struct {
	Version   int                   `json:"version"`
	State     string                `json:"state"` // company_confirm or code_entry
	CompanyID string                `json:"company_id"`
	Company   *wire.CompanyResponse `json:"company,omitempty"`
	Session   *savedSession         `json:"session,omitempty"`
}

type savedSession struct {
	ID         string    `json:"id"`
	Recipients int       `json:"recipients"`
	ExpiresAt  time.Time `json:"expires_at"` // cloud time
}

// snapshot is what of the model survives a reboot; nil when nothing does
// (no company confirmed yet, or activated: the identity is saved).
func snapshot(m Model, now time.Time) *progress {
	if m.Company.Name == "" || m.Identity != nil {
		return nil
	}
	c := m.Company
	p := &progress{Version: progressVersion, State: StateCompanyConfirm.String(), CompanyID: c.CompanyID, Company: &c}
	// A resumed session has no device deadline until the network check
	// has told the cloud's time: keep it until then.
	// A blocked code is not resumed: the company confirm asks for a new one.
	if s := m.Session; s.ID != "" && !s.Blocked && (s.Expires.IsZero() || now.Before(s.Expires)) {
		p.State = StateCodeEntry.String()
		p.Session = &savedSession{ID: s.ID, Recipients: s.Recipients, ExpiresAt: s.ExpiresAt}
	}
	return p
}

// decodeProgress reads the progress file and checks it is one.
func decodeProgress(b []byte) (progress, error) {
	var p progress
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("progress: %w", err)
	}
	if p.Version != progressVersion {
		return p, fmt.Errorf("progress: version %d, want %d", p.Version, progressVersion)
	}
	st, err := ParseState(p.State)
	if err != nil {
		return p, fmt.Errorf("progress: %w", err)
	}
	if p.Company == nil || p.Company.Name == "" || p.Company.CompanyID == "" || p.CompanyID != p.Company.CompanyID {
		return p, errors.New("progress: no company")
	}
	switch st {
	case StateCompanyConfirm:
		if p.Session != nil {
			return p, errors.New("progress: a session at company_confirm")
		}
	case StateCodeEntry:
		if p.Session == nil || p.Session.ID == "" || p.Session.ExpiresAt.IsZero() {
			return p, errors.New("progress: code_entry without a session")
		}
	default:
		return p, fmt.Errorf("progress: cannot resume at %s", st)
	}
	return p, nil
}

// apply puts saved progress into a fresh model. The network check runs
// first; afterNet then resumes at the code (still valid) or the company.
func (p progress) apply(m Model) Model {
	m.CompanyID = p.CompanyID
	m.Company = *p.Company
	if p.Session != nil {
		m.Session = Session{ID: p.Session.ID, Recipients: p.Session.Recipients, ExpiresAt: p.Session.ExpiresAt}
	}
	return m
}
