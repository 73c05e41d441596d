package httpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// tlsClient trusts srv's certificate (issued for 127.0.0.1 and
// example.com) and dials srv whatever the URL's host.
func tlsClient(srv *httptest.Server) *Client {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	addr := srv.Listener.Addr().String()
	return &Client{
		TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		HandshakeTimeout: 10 * time.Second,
	}
}

func TestPostOverTLS(t *testing.T) {
	type seen struct {
		method, path, ctype, conn, host string
		body                            string
		length                          int64
	}
	got := make(chan seen, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Connection"), r.Host, string(b), r.ContentLength}
		w.Header().Set("Date", "Wed, 02 Dec 2026 10:00:00 GMT")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	c := tlsClient(srv)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "https://example.com/api/v1/x", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated || string(b) != `{"ok":true}` || resp.Header.Get("Date") != "Wed, 02 Dec 2026 10:00:00 GMT" {
		t.Errorf("answer %d %q date %q", resp.StatusCode, b, resp.Header.Get("Date"))
	}
	s := <-got
	want := seen{"POST", "/api/v1/x", "application/json", "close", "example.com", `{"a":1}`, 7}
	if s != want {
		t.Errorf("server saw %+v, want %+v", s, want)
	}
}

func TestPlainGetWithRange(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "a", time.Time{}, bytes.NewReader(payload))
	}))
	defer srv.Close()
	var c Client
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/a", nil)
	req.Header.Set("Range", "bytes=99990-")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusPartialContent || string(b) != "0123456789" {
		t.Errorf("range answer %d %q", resp.StatusCode, b)
	}
}

func TestVerifiesTheServer(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("request reached a server that should have been refused")
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		url  string
		cfg  func(*Client)
		as   func(error) bool
	}{
		{"unknown authority", "https://example.com/", func(c *Client) { c.TLS = &tls.Config{RootCAs: x509.NewCertPool()} },
			func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) }},
		{"wrong name", "https://cloud.invalid/", func(*Client) {},
			func(err error) bool { var e x509.HostnameError; return errors.As(err, &e) }},
		{"no TLS settings: system roots", "https://example.com/", func(c *Client) { c.TLS = nil },
			func(err error) bool { var e *tls.CertificateVerificationError; return errors.As(err, &e) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tlsClient(srv)
			tc.cfg(c)
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, tc.url, nil)
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("no error")
			}
			if !tc.as(err) {
				t.Errorf("error %v (%T) is not the expected verification error", err, errors.Unwrap(err))
			}
			var ue *url.Error
			if !errors.As(err, &ue) || ue.Op != "Get" || ue.URL != tc.url {
				t.Errorf("error %v is not a *url.Error for Get %s", err, tc.url)
			}
		})
	}
}

func TestContextEndsABodyRead(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		<-release
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := (&Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first" {
		t.Fatalf("first bytes %q, %v", buf, err)
	}
	cancel()
	_, err = io.ReadAll(resp.Body)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: %v, want context.Canceled", err)
	}
}

func TestContextEndsTheWait(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("x"))
	_, err := (&Client{}).Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do: %v, want context.DeadlineExceeded", err)
	}
	if !strings.HasPrefix(err.Error(), "Post ") {
		t.Errorf("error %q does not name the method as net/http does", err)
	}
}

// Closing the body of an answer the caller gave up on must not read the
// rest of it: here the rest never comes.
func TestCloseDoesNotDrain(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000000")
		w.Write(bytes.Repeat([]byte("x"), 4096))
		w.(http.Flusher).Flush()
		<-release
	}))
	defer srv.Close()
	defer close(release)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	resp, err := (&Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { resp.Body.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close read on into an endless body")
	}
	if _, err := resp.Body.Read(make([]byte, 1)); err == nil {
		t.Error("read after Close succeeded")
	}
}

func TestRefusesOtherSchemes(t *testing.T) {
	dialed := false
	c := &Client{Dial: func(context.Context, string, string) (net.Conn, error) { dialed = true; return nil, errors.New("no") }}
	for _, u := range []string{"ftp://example.com/x", "file:///etc/passwd", "/relative", "https://bücher.example/x"} {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Do(req); err == nil {
			t.Errorf("%s: no error", u)
		}
	}
	if dialed {
		t.Error("dialed for a URL it cannot speak")
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://bücher.example/x", nil)
	if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "ASCII (xn--) form") {
		t.Errorf("a non-ASCII host: %v, want the error to ask for its ASCII form", err)
	}
}

func TestDefaultPorts(t *testing.T) {
	for _, tc := range []struct{ url, addr string }{
		{"http://cloud.example/x", "cloud.example:80"},
		{"https://cloud.example/x", "cloud.example:443"},
		{"https://cloud.example:8443/x", "cloud.example:8443"},
		{"http://[2001:db8::1]/x", "[2001:db8::1]:80"},
	} {
		var got string
		c := &Client{Dial: func(_ context.Context, _, addr string) (net.Conn, error) {
			got = addr
			return nil, errors.New("stop here")
		}}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, tc.url, nil)
		if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "stop here") {
			t.Errorf("%s: %v", tc.url, err)
		}
		if got != tc.addr {
			t.Errorf("%s dialed %q, want %q", tc.url, got, tc.addr)
		}
	}
}
