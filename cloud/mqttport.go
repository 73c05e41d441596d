package cloud

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"timeclock/wire"
)

// The MQTT broker is not in this build yet. Its two ports still listen, so
// a clock's network check (TCP to 59777 and 59778, as the help article
// lists) sees the cloud reachable: the TLS port completes a TLS handshake
// and closes; the WebSocket port answers HTTPS with a JSON 503 saying the
// broker is missing.

// serveMQTTTLS accepts on ln, finishes the TLS handshake and closes.
func serveMQTTTLS(ctx context.Context, ln net.Listener, cfg *tls.Config, log *slog.Logger) {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				log.Error("mqtt port", "err", err)
			}
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			tc := tls.Server(c, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				log.Debug("mqtt port: handshake", "source", c.RemoteAddr().String(), "err", err)
				return
			}
			log.Debug("mqtt port: no broker in this build; closing", "source", c.RemoteAddr().String())
			tc.Close()
		}()
	}
}

func mqttWSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"code":"` + string(wire.ErrNotImplemented) + `","message":"the MQTT broker is not in this build"}` + "\n"))
	})
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed)
}
