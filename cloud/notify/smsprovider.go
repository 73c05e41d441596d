package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// SMSConfig configures the HTTP SMS provider.
type SMSConfig struct {
	// URL receives one POST per message (https, or http to a loopback host).
	URL string
	// User, when set, makes the request use HTTP Basic auth (User:Token),
	// as account-SID style providers want; otherwise the Token is sent as
	// "Authorization: Bearer <token>".
	User  string
	Token Secret
	// From is the sending number or sender ID the provider knows, if any.
	From string
	// Timeout bounds one request; 0 means 15 s.
	Timeout time.Duration
	// Client is the HTTP client; nil uses one with Timeout.
	Client *http.Client
}

// Validate checks the config and names the wrong field.
func (c SMSConfig) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("sms-url: %q: want an http(s) URL", c.URL)
	}
	if u.User != nil {
		return errors.New("sms-url: put credentials in --sms-user and the token file, not the URL")
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return fmt.Errorf("sms-url: %q: plain http only to this machine; the token would cross the network in clear", c.URL)
	}
	if c.Token == "" {
		return errors.New("sms-token-file: missing; the provider needs a token")
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SMSRequest is the JSON body POSTed to the provider for each message.
type SMSRequest struct {
	To   string `json:"to"`             // E.164, "+14155552671"
	From string `json:"from,omitempty"` // HTTPConfig.From
	Body string `json:"body"`
}

// SMSProvider sends messages through a provider's SMSProvider API: one JSON POST per
// message; any 2xx is sent, anything else an error with the status.
type SMSProvider struct {
	cfg SMSConfig
	c   *http.Client
}

// NewSMSProvider returns an HTTP provider.
func NewSMSProvider(cfg SMSConfig) (*SMSProvider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	c := cfg.Client
	if c == nil {
		c = &http.Client{Timeout: cfg.Timeout}
	}
	return &SMSProvider{cfg: cfg, c: c}, nil
}

// Send posts m to the provider.
func (h *SMSProvider) Send(ctx context.Context, m SMS) error {
	if _, err := ParseUSMobile(string(m.To)); err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	body, err := json.Marshal(SMSRequest{To: string(m.To), From: h.cfg.From, Body: m.Body})
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if h.cfg.User != "" {
		req.SetBasicAuth(h.cfg.User, string(h.cfg.Token))
	} else {
		req.Header.Set("Authorization", "Bearer "+string(h.cfg.Token))
	}
	resp, err := h.c.Do(req)
	if err != nil {
		// url.Error carries the URL only; the token is in a header.
		return fmt.Errorf("sms: provider: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sms: provider answered %s: %s", resp.Status, clean(snippet))
	}
	return nil
}

// clean keeps a provider's error text to one printable line.
func clean(b []byte) string {
	if !utf8.Valid(b) {
		return fmt.Sprintf("(%d bytes of binary)", len(b))
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(string(b)))
}
