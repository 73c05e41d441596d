package wire

import "fmt"

// PathStanding is where a clock asks the cloud, over HTTPS with its device
// certificate, whether the cloud still takes it (GET). The cloud answers
// 200 with a Standing while it does (approved, or disabling: the clock's
// last transmission still goes), and 403 with an Error of code
// ErrDisabled once the clock is disabled and its certificate refused. A
// certificate the cloud does not know as the device's newest gets 401
// (an old identity): that says nothing about the clock.
const PathStanding = "/api/v1/device/standing"

// Standing is the cloud's 200 answer on PathStanding.
type Standing struct {
	Status string `json:"status"` // StandingApproved or StandingDisabling
}

// The statuses a Standing may carry.
const (
	StandingApproved  = "approved"
	StandingDisabling = "disabling"
)

// DecodeStanding reads the cloud's answer on PathStanding (its HTTP status
// code and body): disabled is true only for a 403 whose body is an Error
// of code ErrDisabled. A 200 is "not disabled"; any other answer is an
// error and says nothing about the clock.
func DecodeStanding(code int, b []byte) (disabled bool, err error) {
	switch code {
	case 200:
		return false, nil
	case 403:
		var e Error
		if err := decode(b, "standing", &e); err != nil {
			return false, err
		}
		if e.Code != ErrDisabled {
			return false, fmt.Errorf("standing: HTTP 403: %s", e.Code)
		}
		return true, nil
	}
	return false, fmt.Errorf("standing: HTTP %d", code)
}
