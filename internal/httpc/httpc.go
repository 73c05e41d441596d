// Package httpc is the clock's HTTP/1.1 client: one request per
// connection, over plain TCP or TLS, through the caller's dialer, with no
// proxy, no redirects, no cookies and no transparent compression.
//
// The clock talks HTTP to one server, its cloud, a few times a day
// (onboarding, the Date check, update reports and downloads). net/http's
// Client and Transport (connection pool, HTTP/2 hooks, proxies, gzip,
// redirects) were ~172 KiB of the GOARM=7 binary that must stay under
// 8 MiB; the request writer and response reader they use are linked
// anyway (gorilla/websocket uses them), so a request here costs only a
// dial, a handshake and those two.
package httpc

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Client sends requests. The zero value dials with a plain net.Dialer and
// has no TLS settings (an https URL then verifies against the system's
// roots). It is safe for concurrent use.
type Client struct {
	// Dial opens the TCP connection; nil uses a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLS is the configuration for https URLs; ServerName defaults to
	// the URL's host, as net/http's Transport does.
	TLS *tls.Config
	// HandshakeTimeout bounds the TLS handshake (0: only the context).
	HandshakeTimeout time.Duration
}

// Do sends req and returns the response, whose Body the caller must
// close; closing it closes the connection. Only http and https URLs are
// allowed. The request's context bounds the dial, the handshake and the
// reading of the response, body included. Errors are *url.Error, as
// net/http's Client returns them, wrapping the cause (a context's error
// when the context ended first).
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.do(req)
	if err != nil {
		if cerr := req.Context().Err(); cerr != nil {
			err = cerr
		}
		return nil, &url.Error{Op: op(req.Method), URL: req.URL.String(), Err: err}
	}
	return resp, nil
}

func (c *Client) do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	u := req.URL
	if u == nil || u.Host == "" {
		closeBody(req)
		return nil, errors.New("http: request has no host")
	}
	// net/http's Transport dials and checks certificates for the ASCII
	// (punycode) form of a host name; that conversion (x/net's IDNA) is
	// not exported, so such a name has to be given in that form.
	for _, r := range u.Hostname() {
		if r >= utf8.RuneSelf {
			closeBody(req)
			return nil, fmt.Errorf("host %q: give the name in its ASCII (xn--) form", u.Hostname())
		}
	}
	port := u.Port()
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
	default:
		closeBody(req)
		return nil, fmt.Errorf("unsupported protocol scheme %q", u.Scheme)
	}
	dial := c.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	raw, err := dial(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		closeBody(req)
		return nil, err
	}
	// Closing the TCP connection is how a context that ends unblocks a
	// read or write; Body.Close stops the watch.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	fail := func(err error) (*http.Response, error) {
		stop()
		raw.Close()
		return nil, err
	}
	conn := raw
	if u.Scheme == "https" {
		cfg := &tls.Config{}
		if c.TLS != nil {
			cfg = c.TLS.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(conn, cfg)
		hctx := ctx
		if c.HandshakeTimeout > 0 {
			var cancel context.CancelFunc
			hctx, cancel = context.WithTimeout(ctx, c.HandshakeTimeout)
			defer cancel()
		}
		if err := tc.HandshakeContext(hctx); err != nil {
			closeBody(req)
			return fail(err)
		}
		conn = tc
	}
	r := *req
	r.Close = true // one request per connection: the server closes it after
	if err := r.Write(conn); err != nil {
		return fail(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return fail(err)
	}
	resp.Body = &body{ReadCloser: resp.Body, ctx: ctx, conn: raw, stop: stop}
	return resp, nil
}

// body closes the connection with the response body and reports a
// context that ended as the reason a read failed.
type body struct {
	io.ReadCloser
	ctx  context.Context
	conn net.Conn
	stop func() bool
	once sync.Once
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		if cerr := b.ctx.Err(); cerr != nil {
			err = cerr
		}
	}
	return n, err
}

// Close closes the connection first: net/http's body would otherwise read
// to the end of a response the caller gave up on (an update artifact is
// megabytes).
func (b *body) Close() error {
	b.once.Do(func() {
		b.stop()
		b.conn.Close()
		b.ReadCloser.Close()
	})
	return nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// op names the method as net/http's Client does in its errors ("Post").
func op(method string) string {
	if method == "" {
		return "Get"
	}
	return method[:1] + strings.ToLower(method[1:])
}
