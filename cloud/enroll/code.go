package enroll

import (
	"context"
	"errors"
	"fmt"

	"timeclock/cloud/store"
	"timeclock/wire"
)

// RequestCode mails a new authentication code to every administrator of the
// company, and to no one else, or answers why not.
func (s *Service) RequestCode(ctx context.Context, source string, req wire.CodeRequest) (wire.CodeResponse, error) {
	serial := req.Device.Serial
	if e := limited(s.lookup, source, serial, "code requests"); e != nil {
		return wire.CodeResponse{}, e
	}
	if e := checked(s.wrongCompany, source, serial, "wrong company IDs"); e != nil {
		return wire.CodeResponse{}, e
	}
	company, admins, err := s.companyAndAdmins(ctx, req.CompanyID)
	if errors.Is(err, store.ErrNotFound) {
		take(s.wrongCompany, source, serial)
		return wire.CodeResponse{}, unknownCompany(req.CompanyID)
	}
	if err != nil {
		return wire.CodeResponse{}, fmt.Errorf("code: %w", err)
	}
	if len(admins) == 0 {
		return wire.CodeResponse{}, apiError(wire.ErrNoAdmins, "company %s has no administrator email on file", company.ID)
	}
	if e := checked(s.mailed, source, serial, "code mails"); e != nil {
		return wire.CodeResponse{}, e
	}
	// A clock an administrator disabled gets no code until one enables it
	// again: the clock says so ("Clock disabled ... ask them to enable it").
	var refused *wire.Error
	err = s.Store.View(ctx, func(tx store.Tx) error {
		d, err := tx.DeviceBySerial(company.ID, serial)
		if err == nil {
			refused = refusedDisabled(d)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return wire.CodeResponse{}, fmt.Errorf("code: %w", err)
	}
	if refused != nil {
		return wire.CodeResponse{}, refused
	}

	code, err := randomDigits(CodeDigits)
	if err != nil {
		return wire.CodeResponse{}, err
	}
	salt, err := randomBytes(16)
	if err != nil {
		return wire.CodeResponse{}, err
	}
	newID, err := newSessionID()
	if err != nil {
		return wire.CodeResponse{}, err
	}
	now := s.Clock.Now()

	var (
		action  codeAction
		apiErr  *wire.Error
		sess    store.Session
		fromSt  string
		oldSess string
	)
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		var prev *store.Session
		var p store.Session
		var err error
		if req.Resend {
			p, err = tx.Session(req.SessionID)
			if err == nil && (p.CompanyID != company.ID || p.Serial != serial) {
				err = store.ErrNotFound // another clock's session is not this one's
			}
		} else {
			p, err = tx.SessionFor(company.ID, serial)
		}
		switch {
		case err == nil:
			prev = &p
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		action, apiErr = planCode(prev, req.Resend, now, s.cfg)
		fromSt, oldSess = "none", ""
		if prev != nil {
			fromSt = prev.State.String()
		}
		switch action {
		case actReuse:
			sess = *prev
			return nil
		case actRefuse:
			return nil
		case actNew:
			if prev != nil && (prev.State == store.SessionCodeSent || prev.State == store.SessionBurned) {
				old := *prev
				old.State = store.SessionReplaced
				if err := tx.PutSession(old); err != nil {
					return err
				}
				oldSess = old.ID
			}
			sess = store.Session{ID: newID, CompanyID: company.ID, Serial: serial}
			fromSt = "none"
		case actReissue:
			sess = *prev
		}
		sess.Model, sess.Firmware, sess.Source = req.Device.Model, req.Device.Firmware, source
		sess.State = store.SessionCodeSent
		sess.CodeSalt, sess.CodeHash = salt, hashCode(salt, code)
		sess.SentAt, sess.ExpiresAt = now, now.Add(s.cfg.CodeTTL)
		sess.WrongTries = 0
		sess.Recipients = len(admins)
		return tx.PutSession(sess)
	})
	if err != nil {
		return wire.CodeResponse{}, fmt.Errorf("code: %w", err)
	}
	if apiErr != nil {
		return wire.CodeResponse{}, apiErr
	}
	resp := wire.CodeResponse{
		SessionID:   sess.ID,
		ExpiresAt:   sess.ExpiresAt,
		ResendAfter: sess.SentAt.Add(s.cfg.ResendAfter),
		Recipients:  sess.Recipients,
	}
	if action == actReuse {
		s.Log.Info("code request repeated; the code sent stands", "session", sess.ID, "serial", serial)
		return resp, nil
	}
	if oldSess != "" {
		s.Log.Info("session "+fromSt+" -> replaced (new code for the same clock)", "session", oldSess, "serial", serial)
		fromSt = "none"
	}
	reason := "code sent"
	if action == actReissue {
		reason = "code resent; the previous code no longer works"
	}
	s.Log.Info(fmt.Sprintf("session %s -> code_sent (%s)", fromSt, reason),
		"session", sess.ID, "company", company.ID, "serial", serial, "model", req.Device.Model,
		"source", source, "administrators", len(admins), "expires", sess.ExpiresAt)

	take(s.mailed, source, serial)
	sent := s.mailCode(ctx, company, admins, sess, code)
	if sent == 0 {
		err := s.Store.Update(ctx, func(tx store.Tx) error {
			cur, err := tx.Session(sess.ID)
			if err != nil {
				return err
			}
			if cur.SentAt.Equal(sess.SentAt) && cur.State == store.SessionCodeSent {
				cur.State = store.SessionMailFailed
				return tx.PutSession(cur)
			}
			return nil
		})
		if err != nil {
			s.Log.Error("mark session mail_failed", "session", sess.ID, "err", err)
		}
		s.Log.Warn("session code_sent -> mail_failed (no administrator could be mailed)", "session", sess.ID)
		return wire.CodeResponse{}, apiError(wire.ErrInternal, "the code mail could not be sent; try again later")
	}
	resp.Recipients = sent
	return resp, nil
}

// mailCode sends the code to each administrator, one mail each, and returns
// how many were sent.
func (s *Service) mailCode(ctx context.Context, c store.Company, admins []store.User, sess store.Session, code string) int {
	sent := 0
	for _, a := range admins {
		m, err := codeMail(s.cfg, c, a, sess, code)
		if err == nil {
			err = s.Mailer.Send(ctx, m)
		}
		if err != nil {
			// The error text never holds the code: it comes from the
			// address, the template or the SMTP exchange.
			s.Log.Error("code mail failed", "session", sess.ID, "err", err)
			continue
		}
		sent++
	}
	return sent
}

// refusedDisabled is the onboarding API's answer for a clock that is
// disabled (or on its way there) and that no administrator enabled again.
func refusedDisabled(d store.Device) *wire.Error {
	if d.Status == store.DeviceApproved || !d.EnabledAt.IsZero() {
		return nil
	}
	return apiError(wire.ErrDisabled, "an administrator disabled this clock; ask them to enable it again on Mobile Devices")
}
