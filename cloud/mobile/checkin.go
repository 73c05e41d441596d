package mobile

import (
	"context"
	"errors"
	"time"

	"timeclock/cloud/store"
	"timeclock/wire"
)

// CheckIn records an enrolled copy's check-in (Last Checked In, Version,
// Last Used By) and answers its status. A disabled copy's first check-in
// after the disable is its one last transmission: taken, and answered
// "disabled" with Final; every later call is refused.
func (s *Service) CheckIn(ctx context.Context, token string, req wire.MobileCheckInRequest) (wire.MobileCheckInResponse, error) {
	hash := store.TokenHash(token)
	if ok, wait := s.checkIns.Allow("tok " + hash); !ok {
		return wire.MobileCheckInResponse{}, &wire.Error{Code: wire.ErrRateLimited, Message: "too many check-ins", RetryAfter: retryAfter(wait)}
	}
	now := s.clk.Now().UTC()
	var m store.MobileInstall
	var final bool
	err := s.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if m, err = tx.MobileInstallByToken(hash); err != nil {
			return err
		}
		if m.Status == store.DeviceDisabled {
			if m.FinalSent {
				return errDisabled
			}
			m.FinalSent, final = true, true
		}
		m.LastCheckedIn = now
		if req.AppVersion != "" {
			m.AppVersion = req.AppVersion
		}
		if req.LastUsedBy != "" {
			m.LastUsedBy = req.LastUsedBy
		}
		return tx.PutMobileInstall(m)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return wire.MobileCheckInResponse{}, &wire.Error{Code: wire.ErrUnauthorized, Message: "unknown install token; enroll with the company setup code"}
	case errors.Is(err, errDisabled):
		return wire.MobileCheckInResponse{}, &wire.Error{Code: wire.ErrDisabled, Message: "this copy of the app was disabled by an administrator"}
	case err != nil:
		return wire.MobileCheckInResponse{}, s.internal("check-in", err)
	}
	resp := wire.MobileCheckInResponse{Status: m.Status.String(), Final: final, ServerAt: now.Truncate(time.Second)}
	if final {
		s.log.Info("mobile device disabled -> disabled, done (last transmission taken)", "company", m.CompanyID, "id", m.ID)
	}
	return resp, nil
}

var errDisabled = errors.New("disabled")
