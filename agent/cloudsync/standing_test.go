package cloudsync

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"timeclock/internal/await"
	"timeclock/internal/fakecloud"
	"timeclock/internal/testpki"
	"timeclock/wire"
)

// standingServer is a cloud's standing route on loopback: its HTTPS
// certificate cert, asking for a client certificate of clients (nil:
// none), answering every request with h. It counts the connections the
// clock made.
func standingServer(t *testing.T, cert tls.Certificate, clients *testpki.CA, h http.HandlerFunc) (url string, asked *atomic.Int32) {
	t.Helper()
	asked = &atomic.Int32{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != wire.PathStanding || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			asked.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	if clients != nil {
		srv.TLS.ClientAuth, srv.TLS.ClientCAs = tls.RequireAndVerifyClientCert, clients.Pool()
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, asked
}

// disabledAnswer is the cloud's 403 device_disabled, given only to the
// device whose certificate asks.
func disabledAnswer(dev string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || r.TLS.VerifiedChains[0][0].Subject.CommonName != dev {
			fakecloud.Reply(http.StatusUnauthorized, wire.Error{Code: wire.ErrUnauthorized, Message: "no"})(w, r)
			return
		}
		fakecloud.Reply(http.StatusForbidden, wire.Error{Code: wire.ErrDisabled, Message: "disabled by an administrator"})(w, r)
	}
}

// waitRun waits for Run to end and returns its error.
func (c *clockRig) waitRun() error {
	c.t.Helper()
	select {
	case err := <-c.done:
		c.done <- err
		return err
	case <-time.After(wait):
		c.t.Fatal("Run did not end")
		return nil
	}
}

// TestCloudSaysDisabled: a clock its broker refuses (the embedded broker's
// CONNACK), or whose punches go unacknowledged on a session that drops all
// it sends (Mosquitto's WebSocket listener), asks its cloud with its own
// certificate; the cloud's 403 device_disabled ends the sync as a
// finished disable. The punches taken meanwhile stay pending.
func TestCloudSaysDisabled(t *testing.T) {
	for _, how := range []string{"refused", "acks overdue"} {
		t.Run(how, func(t *testing.T) {
			fc := fakecloud.New(t)
			c := newClock(t, fc, "dev-lost")
			cfg := testConfig()
			c.punch(2)
			if how == "refused" {
				fc.Refuse("dev-lost", true)
			} else {
				fc.HoldAcks(true)
				cfg.AckTimeout = 200 * time.Millisecond
			}
			url, asked := standingServer(t, fc.CA.Server(t, "127.0.0.1"), fc.CA, disabledAnswer("dev-lost"))
			c.id.CloudURL = url
			c.start(cfg)
			if err := c.waitRun(); !errors.Is(err, ErrDisabled) {
				t.Fatalf("Run: %v, want ErrDisabled", err)
			}
			if d := c.dev.get(); !d.finished || d.finalSeq != 0 {
				t.Fatalf("device finished %v final seq %d, want the disable finished with final seq 0", d.finished, d.finalSeq)
			}
			if asked.Load() == 0 || c.j.Pending() != 2 {
				t.Fatalf("asked %d, pending %d", asked.Load(), c.j.Pending())
			}
			if how == "acks overdue" && fc.Received() == 0 {
				t.Fatal("the punches never went out: the disable did not come from the overdue acks")
			}
			if countLog(c, "the cloud says this clock was disabled") != 1 {
				t.Errorf("log:\n%s", c.logs.String())
			}
		})
	}
}

// TestOnlyTheCloudSaysDisabled: a refused clock whose question gets no
// answer, or an answer that is not its cloud's authenticated 403
// device_disabled, goes on as before: it keeps its punches and retries.
func TestOnlyTheCloudSaysDisabled(t *testing.T) {
	forger := testpki.NewCA(t, "not the cloud's CA")
	for _, tc := range []struct {
		name string
		url  func(t *testing.T, fc *fakecloud.Cloud) (string, *atomic.Int32)
	}{
		{"a server of another CA says device_disabled", func(t *testing.T, fc *fakecloud.Cloud) (string, *atomic.Int32) {
			return standingServer(t, forger.Server(t, "127.0.0.1"), nil, fakecloud.Reply(http.StatusForbidden, wire.Error{Code: wire.ErrDisabled, Message: "x"}))
		}},
		{"another clock's certificate (the cloud's CA, client only) says device_disabled", func(t *testing.T, fc *fakecloud.Cloud) (string, *atomic.Int32) {
			other := fc.Onboard(t, t.TempDir(), "dev-other")
			return standingServer(t, other.TLSCertificate(), nil, fakecloud.Reply(http.StatusForbidden, wire.Error{Code: wire.ErrDisabled, Message: "x"}))
		}},
		{"the cloud answers 503", func(t *testing.T, fc *fakecloud.Cloud) (string, *atomic.Int32) {
			return standingServer(t, fc.CA.Server(t, "127.0.0.1"), fc.CA, fakecloud.Reply(http.StatusServiceUnavailable, wire.Error{Code: wire.ErrInternal, Message: "later"}))
		}},
		{"the cloud answers 403 with another code", func(t *testing.T, fc *fakecloud.Cloud) (string, *atomic.Int32) {
			return standingServer(t, fc.CA.Server(t, "127.0.0.1"), fc.CA, fakecloud.Reply(http.StatusForbidden, wire.Error{Code: wire.ErrUnauthorized, Message: "no"}))
		}},
		{"the cloud answers approved", func(t *testing.T, fc *fakecloud.Cloud) (string, *atomic.Int32) {
			return standingServer(t, fc.CA.Server(t, "127.0.0.1"), fc.CA, fakecloud.Reply(http.StatusOK, wire.Standing{Status: wire.StandingApproved}))
		}},
		{"nothing listens", func(t *testing.T, fc *fakecloud.Cloud) (string, *atomic.Int32) {
			return "https://" + closedPort(t), nil
		}},
		{"the connection is cut", func(t *testing.T, fc *fakecloud.Cloud) (string, *atomic.Int32) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			must(t, err)
			n := &atomic.Int32{}
			go func() {
				for {
					conn, err := ln.Accept()
					if err != nil {
						return
					}
					n.Add(1)
					conn.Close()
				}
			}()
			t.Cleanup(func() { ln.Close() })
			return "https://" + ln.Addr().String(), n
		}},
		{"plain HTTP says device_disabled", func(t *testing.T, fc *fakecloud.Cloud) (string, *atomic.Int32) {
			srv := httptest.NewServer(fakecloud.Reply(http.StatusForbidden, wire.Error{Code: wire.ErrDisabled, Message: "x"}))
			t.Cleanup(srv.Close)
			return srv.URL, nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := fakecloud.New(t)
			c := newClock(t, fc, "dev-no")
			fc.Refuse("dev-no", true)
			url, asked := tc.url(t, fc)
			c.id.CloudURL = url
			cfg := testConfig()
			cfg.StandingEvery = time.Nanosecond // asked at every refusal
			c.punch(2)
			c.start(cfg)
			await.True(t, wait, func() bool { return countLog(c, "refused by the cloud") >= 3 && (asked == nil || asked.Load() >= 2) },
				"no retries, or not asked (%v)", asked)
			if c.dev.get().finished || c.j.Pending() != 2 {
				t.Fatalf("finished %v, pending %d", c.dev.get().finished, c.j.Pending())
			}
			select {
			case err := <-c.done:
				t.Fatalf("Run ended: %v", err)
			default:
			}
			fc.Refuse("dev-no", false)
			c.waitDrained(fc, 2)
		})
	}
}
