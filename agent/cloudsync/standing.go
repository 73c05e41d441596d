package cloudsync

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"timeclock/internal/httpc"
	"timeclock/wire"
)

// This file is the clock asking the cloud whether it is disabled
// (wire.PathStanding). A clock that lost its state after its disable
// (docs/storage.md) comes back up enabled with credentials the cloud
// refuses; a refused or silent broker never says why, so the clock asks.
//
// Only the cloud can say "disabled": the question goes over HTTPS to the
// identity's cloud URL, trusting the cloud's CA from the identity and
// nothing else (no system roots, no proxy, no redirect), with the clock's
// own certificate. A network fault, a timeout, a TLS failure, a server
// without a certificate of that CA, or any answer but 403 device_disabled
// is no answer: the clock goes on as before.

// standingClient is the HTTPS client for the question (internal/httpc:
// one request per connection, no redirects), nil when the identity's
// cloud URL is not https (nothing can be asked).
func (s *Syncer) standingClient() (*httpc.Client, string) {
	u, err := url.Parse(s.o.Identity.CloudURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, ""
	}
	tc := s.tls.Clone()
	tc.ServerName = u.Hostname()
	return &httpc.Client{Dial: s.o.Dial, TLS: tc, HandshakeTimeout: s.cfg.ConnectTimeout},
		strings.TrimSuffix(u.String(), "/") + wire.PathStanding
}

// askStanding asks the cloud, at most once every StandingEvery, whether it
// disabled this clock. It reports true only on the cloud's authenticated
// 403 device_disabled.
func (s *Syncer) askStanding(ctx context.Context) bool {
	now := s.clk.Now()
	if !s.standingAt.IsZero() && now.Sub(s.standingAt) < s.cfg.StandingEvery {
		return false
	}
	s.standingAt = now
	client, u := s.standingClient()
	if client == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	disabled, err := ask(ctx, client, u)
	if err != nil {
		s.log.Debug("standing: no answer from the cloud (not taken as disabled)", "err", err)
		return false
	}
	return disabled
}

func ask(ctx context.Context, client *httpc.Client, u string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8192))
	if err != nil {
		return false, fmt.Errorf("standing: %w", err)
	}
	return wire.DecodeStanding(resp.StatusCode, b)
}

// disabledByCloud ends the sync of a clock the cloud says is disabled: it
// is recorded and shown as any disabled clock (the credentials erased).
// Punches still pending were taken after the disable: the cloud refuses
// them, and they stay in the journal (docs/protocol.md).
func (s *Syncer) disabledByCloud() error {
	pending := s.o.Journal.Pending()
	final := s.o.Journal.LastSeq() - uint64(pending)
	s.log.Error("the cloud says this clock was disabled by an administrator; disabling it",
		"pending_refused", pending, "final_seq", final)
	if err := s.o.Device.FinishDisable(final); err != nil {
		s.log.Error("recording the disable", "err", err)
	}
	s.reply(ErrDisabled)
	return ErrDisabled
}
