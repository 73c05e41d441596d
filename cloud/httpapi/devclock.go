package httpapi

import (
	"io"
	"net/http"
	"time"

	"timeclock/wire"
)

// PathDevClock moves the dev cloud's clock forward (admin token, --dev
// only), so end-to-end tests against the real binary can expire a code or
// pass the resend wait without waiting.
const PathDevClock = "/api/v1/dev/clock"

// DevClock is a clock that can be moved forward.
type DevClock interface {
	Advance(d time.Duration) time.Time
}

// DevClockRequest is the body of POST PathDevClock.
type DevClockRequest struct {
	AdvanceSeconds int `json:"advance_seconds"`
}

// DevClockResponse says the cloud's time after the move.
type DevClockResponse struct {
	Now time.Time `json:"now"`
}

// maxAdvance keeps a typo from moving the clock past every certificate.
const maxAdvance = 7 * 24 * 3600

func decodeDevClockRequest(r io.Reader) (DevClockRequest, *wire.Error) {
	var req DevClockRequest
	if e := decodeJSON(r, &req); e != nil {
		return req, e
	}
	if req.AdvanceSeconds < 1 || req.AdvanceSeconds > maxAdvance {
		return req, badRequest("advance_seconds: want 1 to %d", maxAdvance)
	}
	return req, nil
}

func (a *api) devClock(w http.ResponseWriter, r *http.Request, _ who) {
	req, e := decodeDevClockRequest(r.Body)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	now := a.DevClock.Advance(time.Duration(req.AdvanceSeconds) * time.Second)
	a.Log.Warn("dev clock moved forward", "by", time.Duration(req.AdvanceSeconds)*time.Second, "now", now)
	writeJSON(w, http.StatusOK, DevClockResponse{Now: now})
}
