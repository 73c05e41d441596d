package onboarding

// This file is the clock's client of the cloud's onboarding API (HTTPS,
// JSON, the types of package wire). It trusts only the configured CA,
// bounds every request in time and size, and turns every failure into one
// the screens can name: a *wire.Error from the cloud, ErrUnreachable,
// ErrUntrusted or ErrBadResponse.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"timeclock/clock"
	"timeclock/internal/httpc"
	"timeclock/onboarding/netcheck"
	"timeclock/wire"
)

// The failures that are not the cloud's answer.
var (
	// ErrUnreachable: no connection (refused, timed out, no route).
	ErrUnreachable = errors.New("cloud unreachable")
	// ErrUntrusted: the TLS handshake failed verification (wrong CA, a
	// proxy inspecting HTTPS, wrong name, bad date).
	ErrUntrusted = errors.New("cloud not trusted")
	// ErrBadResponse: an answer the clock cannot read.
	ErrBadResponse = errors.New("bad response from the cloud")
)

// maxBody bounds a response body.
const maxBody = 1 << 20

// ClientConfig configures a Client.
type ClientConfig struct {
	// BaseURL is the cloud's HTTPS base URL.
	BaseURL string
	// CA is the pool to trust; nil means the system roots.
	CA *x509.CertPool
	// Timeout bounds each request; zero means 20 s.
	Timeout time.Duration
	// Clock is the device's clock; nil is the real one.
	Clock clock.Clock
	// Dial replaces the dialer (tests); nil is net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TimeSample, if set, gets the Date header of every answer as a sample
	// of authenticated cloud time (TLS to the cloud's CA).
	TimeSample func(clock.Sample)
	// Floor, if set, is the time floor: certificates are never checked
	// against an earlier time.
	Floor func() time.Time
	// TLSHint, if set, gets what SetCloudTime gets (port 80's Date), so
	// the clock's other TLS connections can use it too.
	TLSHint func(cloud, local time.Time)
}

// Client calls the onboarding API. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	http    *httpc.Client
	clk     clock.Clock
	timeout time.Duration
	sample  func(clock.Sample)
	floor   func() time.Time
	hint    func(cloud, local time.Time)

	mu       sync.Mutex
	offset   time.Duration // guarded by mu; cloud time minus device time
	knowTime bool          // guarded by mu
}

// NewClient makes a client.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("cloudapi: %w", err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("cloudapi: %q is not an https:// URL", cfg.BaseURL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	c := &Client{base: u, clk: cfg.Clock, timeout: cfg.Timeout, sample: cfg.TimeSample, floor: cfg.Floor, hint: cfg.TLSHint}
	dial := cfg.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: cfg.Timeout}).DialContext
	}
	// One request per connection (a handful per activation), and no
	// redirects: the API never redirects, and following one could leave
	// the CA's reach.
	c.http = &httpc.Client{
		Dial: dial,
		TLS: &tls.Config{
			RootCAs:    cfg.CA,
			MinVersion: tls.VersionTLS12,
			Time:       c.tlsTime,
		},
		HandshakeTimeout: cfg.Timeout,
	}
	return c, nil
}

// SetCloudTime records the cloud's time (from the HTTP Date check) read when
// the device clock showed local: until the device clock is set, TLS checks
// certificate dates against the cloud's time.
func (c *Client) SetCloudTime(cloud, local time.Time) {
	c.mu.Lock()
	c.offset, c.knowTime = cloud.Sub(local), true
	c.mu.Unlock()
	if c.hint != nil {
		c.hint(cloud, local)
	}
}

func (c *Client) tlsTime() time.Time {
	c.mu.Lock()
	off, known := c.offset, c.knowTime
	c.mu.Unlock()
	var floor time.Time
	if c.floor != nil {
		floor = c.floor()
	}
	return netcheck.TLSTime(c.clk.Now(), floor, off, known)
}

// Close releases the client. Each request has its own connection, closed
// with its answer, so there is nothing left to drop.
func (c *Client) Close() {}

// Company looks up a company by ID.
func (c *Client) Company(ctx context.Context, req wire.CompanyRequest) (wire.CompanyResponse, error) {
	body, _, err := c.post(ctx, wire.PathCompany, req)
	if err != nil {
		return wire.CompanyResponse{}, err
	}
	return DecodeCompany(body)
}

// CodeAnswer is the cloud's answer to a code request, with the cloud's time
// when it answered (its Date header) so deadlines can be counted on a clock
// whose own time is unknown.
type CodeAnswer struct {
	wire.CodeResponse
	ServerTime time.Time
}

// RequestCode asks the cloud to mail a code (or, with Resend, a new one).
func (c *Client) RequestCode(ctx context.Context, req wire.CodeRequest) (CodeAnswer, error) {
	body, date, err := c.post(ctx, wire.PathCode, req)
	if err != nil {
		return CodeAnswer{}, err
	}
	r, err := DecodeCode(body)
	if err != nil {
		return CodeAnswer{}, err
	}
	return CodeAnswer{CodeResponse: r, ServerTime: date}, nil
}

// Activate sends the code and CSR and returns the device's identity.
func (c *Client) Activate(ctx context.Context, req wire.ActivateRequest) (wire.ActivateResponse, error) {
	body, _, err := c.post(ctx, wire.PathActivate, req)
	if err != nil {
		return wire.ActivateResponse{}, err
	}
	return DecodeActivate(body)
}

// post sends a JSON request and returns a 2xx body and the cloud's time
// from the Date header (the device's clock when the header is missing or
// bad).
func (c *Client) post(ctx context.Context, path string, in any) ([]byte, time.Time, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("cloudapi: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := c.base.JoinPath(path)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("cloudapi: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	sent := c.clk.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, time.Time{}, classify(path, err)
	}
	received := c.clk.Now()
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("cloudapi: %s: reading the answer: %w", path, errors.Join(ErrUnreachable, err))
	}
	if len(body) > maxBody {
		return nil, time.Time{}, fmt.Errorf("cloudapi: %s: answer over %d bytes: %w", path, maxBody, ErrBadResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, time.Time{}, fmt.Errorf("cloudapi: %s: %w", path, DecodeError(resp.StatusCode, body))
	}
	date, err := netcheck.ParseDate(resp.Header.Get("Date"))
	if err != nil {
		return body, c.clk.Now(), nil
	}
	if c.sample != nil {
		c.sample(clock.Sample{Cloud: date, Sent: sent, Received: received, Resolution: time.Second, Origin: "https " + path})
	}
	// The Date header counts whole seconds: the cloud's time was within the
	// second after it. Take the second's end, so a countdown never promises
	// more time than the cloud gives.
	return body, date.Add(time.Second), nil
}

// classify names a transport failure.
func classify(path string, err error) error {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var ve *tls.CertificateVerificationError
	if errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &ve) {
		return fmt.Errorf("cloudapi: %s: %w", path, errors.Join(ErrUntrusted, err))
	}
	return fmt.Errorf("cloudapi: %s: %w", path, errors.Join(ErrUnreachable, err))
}
