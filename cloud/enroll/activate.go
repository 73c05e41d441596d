package enroll

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"timeclock/cloud/pki"
	"timeclock/cloud/store"
	"timeclock/wire"
)

// Activate checks the code and, when it is right, signs the clock's CSR and
// puts the clock on the company's approved list.
func (s *Service) Activate(ctx context.Context, source string, req wire.ActivateRequest) (wire.ActivateResponse, error) {
	serial := req.Device.Serial
	if e := limited(s.activate, source, serial, "activation tries"); e != nil {
		return wire.ActivateResponse{}, e
	}
	// The CSR is checked before the code so a broken request costs no try.
	csr, err := pki.ParseCSR(req.CSR)
	if err != nil {
		return wire.ActivateResponse{}, apiError(wire.ErrBadCSR, "%v", err)
	}
	newID, err := newDeviceID()
	if err != nil {
		return wire.ActivateResponse{}, err
	}
	passcode, err := randomDigits(PasscodeDigits)
	if err != nil {
		return wire.ActivateResponse{}, err
	}
	now := s.Clock.Now()

	var (
		apiErr  *wire.Error
		before  store.Session
		after   store.Session
		company store.Company
		dev     store.Device
		reused  bool
		cert    pki.ClientCert
	)
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		apiErr, reused = nil, false
		sess, err := tx.Session(req.SessionID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && sess.Serial != serial) {
			apiErr = apiError(wire.ErrNoSession, "unknown onboarding session; ask for a new code")
			return nil
		}
		if err != nil {
			return err
		}
		before = sess
		after, apiErr = checkCode(sess, req.Code, now, s.cfg)
		if apiErr != nil {
			if after.WrongTries != before.WrongTries || after.State != before.State {
				return tx.PutSession(after) // the wrong try counts
			}
			return nil
		}
		if company, err = tx.Company(sess.CompanyID); err != nil {
			return err
		}
		dev, err = tx.DeviceBySerial(company.ID, serial)
		switch {
		case err == nil:
			// A clock onboarded again (factory reset, or after being
			// disabled and enabled again) keeps its ID and nickname; the
			// administrator's code approves it again. A disabled clock
			// nobody enabled is refused.
			if e := refusedDisabled(dev); e != nil {
				apiErr, after = e, before // the code stays unused
				return nil
			}
			reused = true
		case errors.Is(err, store.ErrNotFound):
			if _, err := tx.Device(newID); err == nil {
				return fmt.Errorf("device ID %s already taken; try again", newID) // 1 in 2^64
			}
			dev = store.Device{ID: newID, CompanyID: company.ID, Serial: serial,
				Nickname: defaultNickname(req.Device.Model, serial)}
		default:
			return err
		}
		if cert, err = s.CA.SignClient(csr, dev.ID, now); err != nil {
			return err
		}
		dev.Model, dev.Firmware = req.Device.Model, req.Device.Firmware
		if reused && dev.CertSerial != "" && !slices.Contains(dev.RevokedSerials, dev.CertSerial) {
			// The old certificate is no longer this clock's: refused for good.
			dev.RevokedSerials = append(dev.RevokedSerials, dev.CertSerial)
		}
		dev.Status = store.DeviceApproved
		dev.ActivatedAt = now
		dev.DisabledAt, dev.DisabledBy, dev.EnabledAt, dev.EnabledBy = time.Time{}, "", time.Time{}, ""
		dev.CertSerial = cert.Serial
		if err := tx.PutDevice(dev); err != nil {
			return err
		}
		after.DeviceID = dev.ID
		return tx.PutSession(after)
	})
	if err != nil {
		return wire.ActivateResponse{}, fmt.Errorf("activate: %w", err)
	}
	if apiErr != nil {
		if after.State != before.State {
			s.Log.Warn(fmt.Sprintf("session %s -> %s (%d wrong tries)", before.State, after.State, after.WrongTries),
				"session", before.ID, "serial", serial, "source", source)
		} else {
			s.Log.Info("activation refused", "session", req.SessionID, "serial", serial, "source", source,
				"reason", string(apiErr.Code), "tries_left", apiErr.TriesLeft)
		}
		return wire.ActivateResponse{}, apiErr
	}
	s.Log.Info(fmt.Sprintf("session %s -> activated (right code)", before.State),
		"session", before.ID, "device", dev.ID, "company", company.ID, "serial", serial,
		"model", dev.Model, "again", reused, "cert_serial", cert.Serial)

	if s.Activated != nil {
		s.Activated(ctx, dev.ID)
	}
	s.mailActivated(ctx, company, dev, passcode, now)
	return wire.ActivateResponse{
		DeviceID:           dev.ID,
		Certificate:        cert.PEM,
		CA:                 string(s.CA.PEM),
		MQTT:               s.cfg.MQTT,
		Timezone:           company.Timezone,
		Nickname:           dev.Nickname,
		TechnicianPasscode: passcode,
		ActivatedAt:        now,
	}, nil
}

func defaultNickname(model, serial string) string {
	if model == "" {
		return "Timeclock " + serial
	}
	return model + " " + serial
}

// mailActivated tells the administrators the clock was added and gives them
// the technician passcode: the one time it is shown to them. The cloud
// keeps no copy. A failed mail does not undo the activation: the clock
// already has its identity.
func (s *Service) mailActivated(ctx context.Context, c store.Company, d store.Device, passcode string, now time.Time) {
	var admins []store.User
	err := s.Store.View(ctx, func(tx store.Tx) error {
		users, err := tx.Users(c.ID)
		for _, u := range users {
			if u.Administrator && u.Email != "" {
				admins = append(admins, u)
			}
		}
		return err
	})
	if err != nil {
		s.Log.Error("activation mail: users", "device", d.ID, "err", err)
		return
	}
	for _, a := range admins {
		m, err := activatedMail(s.cfg, c, a, d, passcode, now)
		if err == nil {
			err = s.Mailer.Send(ctx, m)
		}
		if err != nil {
			s.Log.Error("activation mail failed", "device", d.ID, "err", err)
		}
	}
}
