package httpapi

import (
	"io"
	"strings"

	"timeclock/cloud/roster"
	"timeclock/wire"
)

// maxRosterBody bounds a roster upload (the clock's roster file limit).
const maxRosterBody = 16 << 20

// DisableRequest is the optional body of POST /api/v1/devices/{id}/disable.
type DisableRequest struct {
	// Now disables at once, without waiting for the clock's last
	// transmission (a lost or stolen clock).
	Now bool `json:"now,omitempty"`
}

// RenameRequest is the body of POST /api/v1/devices/{id}/rename.
type RenameRequest struct {
	Nickname string `json:"nickname"`
}

// CommandRequest is the body of POST /api/v1/devices/{id}/commands.
type CommandRequest struct {
	Type     wire.CommandType `json:"type"` // reboot or timezone
	Timezone string           `json:"timezone,omitempty"`
}

// RosterPut is the body of PUT /api/v1/roster: the whole roster.
type RosterPut struct {
	Employees []roster.Employee `json:"employees"`
}

// RosterPatch is the body of PATCH /api/v1/roster.
type RosterPatch struct {
	Upsert []roster.Employee `json:"upsert,omitempty"`
	Remove []string          `json:"remove,omitempty"`
}

// decodeDisableRequest takes an empty body as {}.
func decodeDisableRequest(r io.Reader, length int64) (DisableRequest, *wire.Error) {
	var req DisableRequest
	if length == 0 {
		return req, nil
	}
	return req, decodeJSONWith(r, &req, maxBody, true)
}

func decodeRenameRequest(r io.Reader) (RenameRequest, *wire.Error) {
	var req RenameRequest
	if e := decodeJSONWith(r, &req, maxBody, true); e != nil {
		return req, e
	}
	if strings.TrimSpace(req.Nickname) == "" {
		return req, badRequest("nickname: missing")
	}
	return req, nil
}

func decodeCommandRequest(r io.Reader) (CommandRequest, *wire.Error) {
	var req CommandRequest
	if e := decodeJSONWith(r, &req, maxBody, true); e != nil {
		return req, e
	}
	switch req.Type {
	case wire.CmdReboot:
		if req.Timezone != "" {
			return req, badRequest("timezone: only with type timezone")
		}
	case wire.CmdTimezone:
		if req.Timezone == "" {
			return req, badRequest("timezone: missing")
		}
	default:
		return req, badRequest("type: want reboot or timezone")
	}
	return req, nil
}

func decodeRosterPut(r io.Reader) (roster.Change, *wire.Error) {
	var req RosterPut
	if e := decodeJSONWith(r, &req, maxRosterBody, true); e != nil {
		return roster.Change{}, e
	}
	if req.Employees == nil {
		return roster.Change{}, badRequest("employees: missing (an empty roster is [])")
	}
	return roster.Change{Full: true, Upsert: req.Employees}, nil
}

func decodeRosterPatch(r io.Reader) (roster.Change, *wire.Error) {
	var req RosterPatch
	if e := decodeJSONWith(r, &req, maxRosterBody, true); e != nil {
		return roster.Change{}, e
	}
	if len(req.Upsert) == 0 && len(req.Remove) == 0 {
		return roster.Change{}, badRequest("nothing to change: give upsert or remove")
	}
	return roster.Change{Upsert: req.Upsert, Remove: req.Remove}, nil
}
