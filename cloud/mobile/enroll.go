package mobile

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"timeclock/cloud/store"
	"timeclock/wire"
)

// Enroll adds a copy of the app to the approved devices of the company
// whose current setup code it typed. The request is already checked
// (httpapi decodes it). The same copy enrolled again keeps its ID and row
// and gets a new token; a copy an administrator disabled stays disabled.
func (s *Service) Enroll(ctx context.Context, source string, req wire.EnrollRequest) (wire.EnrollResponse, error) {
	var resp wire.EnrollResponse
	src := "src " + source
	if ok, wait := s.wrong.Check(src); !ok {
		return resp, &wire.Error{Code: wire.ErrRateLimited, Message: "too many wrong setup codes; wait and try again", RetryAfter: retryAfter(wait)}
	}
	if ok, wait := s.attempts.Allow(src); !ok {
		return resp, &wire.Error{Code: wire.ErrRateLimited, Message: "too many enrollments; wait and try again", RetryAfter: retryAfter(wait)}
	}
	platform, err := parsePlatform(req.Device.Platform)
	if err != nil {
		return resp, &wire.Error{Code: wire.ErrBadRequest, Message: err.Error()}
	}
	company, err := s.companyOfCode(ctx, req.CompanyID, req.SetupCode)
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) {
			if we.Code == wire.ErrWrongSetupCode {
				s.wrong.Take(src)
				s.log.Info("mobile enroll refused (wrong setup code)", "source", source, "platform", platform.String())
			}
			return resp, err
		}
		return resp, s.internal("enroll", err)
	}
	token, err := newToken()
	if err != nil {
		return resp, s.internal("enroll", err)
	}
	now := s.clk.Now().UTC()
	var m store.MobileInstall
	var fresh bool
	err = s.store.Update(ctx, func(tx store.Tx) error {
		var err error
		m, err = tx.MobileInstallByApp(company.ID, req.Device.InstallID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			fresh = true
			if m.ID, err = s.unusedID(tx); err != nil {
				return err
			}
			m.CompanyID, m.InstallID, m.EnrolledAt, m.Status = company.ID, req.Device.InstallID, now, store.DeviceApproved
			m.Nickname = strings.TrimSpace(req.Device.Name)
		case err != nil:
			return err
		case m.Status == store.DeviceDisabled:
			return &wire.Error{Code: wire.ErrDisabled, Message: fmt.Sprintf(
				"this copy of the app was disabled by an administrator of %s; ask them, or remove and reinstall the app", company.Name)}
		}
		m.Platform, m.AppVersion, m.TokenHash = platform, req.Device.AppVersion, store.TokenHash(token)
		return tx.PutMobileInstall(m)
	})
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) {
			return resp, err
		}
		return resp, s.internal("enroll", err)
	}
	if fresh {
		s.log.Info("mobile device none -> approved (enrolled with the setup code)", "company", company.ID, "id", m.ID, "platform", platform.String())
	} else {
		s.log.Info("mobile device approved -> approved (enrolled again; new token)", "company", company.ID, "id", m.ID)
	}
	return wire.EnrollResponse{
		CompanyID: company.ID, CompanyName: company.Name, Timezone: company.Timezone,
		ID: m.ID, Nickname: m.Nickname, Token: token, Status: store.DeviceApproved.String(),
	}, nil
}

func parsePlatform(p string) (store.MobilePlatform, error) {
	var out store.MobilePlatform
	if err := out.UnmarshalText([]byte(p)); err != nil {
		return 0, fmt.Errorf("device.platform: want %q or %q", wire.PlatformIOS, wire.PlatformAndroid)
	}
	return out, nil
}

// companyOfCode finds the company whose code valid now is code: only
// companyID's when given, else every company that has shown its code.
func (s *Service) companyOfCode(ctx context.Context, companyID, code string) (store.Company, error) {
	type cand struct {
		c      store.Company
		secret []byte
	}
	var cands []cand
	err := s.store.View(ctx, func(tx store.Tx) error {
		var cs []store.Company
		if companyID != "" {
			c, err := tx.Company(companyID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err == nil {
				cs = append(cs, c)
			}
		} else {
			var err error
			if cs, err = tx.Companies(); err != nil {
				return err
			}
		}
		for _, c := range cs {
			secret, err := tx.SetupSecret(c.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue // no one has seen its code yet: it has none
			}
			if err != nil {
				return err
			}
			cands = append(cands, cand{c, secret})
		}
		return nil
	})
	if err != nil {
		return store.Company{}, err
	}
	now := s.clk.Now()
	var found []store.Company
	for _, c := range cands {
		loc, err := s.location(c.c.Timezone)
		if err != nil {
			s.log.Warn("mobile: company time zone", "company", c.c.ID, "err", err)
			continue
		}
		if checkSetupCode(c.secret, c.c.ID, loc, now, code) == nil {
			found = append(found, c.c)
		}
	}
	switch len(found) {
	case 0:
		return store.Company{}, &wire.Error{Code: wire.ErrWrongSetupCode,
			Message: "that company setup code is not valid; codes change every Tuesday, so ask your administrator for this week's code"}
	case 1:
		return found[0], nil
	}
	// Two companies share this week's code (one chance in 10^11 per pair).
	return store.Company{}, &wire.Error{Code: wire.ErrBadRequest,
		Message: "that setup code belongs to more than one company this week; send company_id with it"}
}

// unusedID is an ID no clock or copy of the app has: both are listed, and
// disabled, by ID.
func (s *Service) unusedID(tx store.Tx) (string, error) {
	for range 5 {
		id, err := newID()
		if err != nil {
			return "", err
		}
		_, e1 := tx.MobileInstall(id)
		_, e2 := tx.Device(id)
		if errors.Is(e1, store.ErrNotFound) && errors.Is(e2, store.ErrNotFound) {
			return id, nil
		}
	}
	return "", errors.New("no unused ID after 5 tries")
}
