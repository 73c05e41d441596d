package cloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"timeclock/clock"
	"timeclock/cloud/enroll"
	"timeclock/cloud/httpapi"
	"timeclock/cloud/notify"
	"timeclock/cloud/pki"
	"timeclock/cloud/registry"
	"timeclock/cloud/roles"
	"timeclock/cloud/store/boltstore"
	"timeclock/wire"
)

// Options are the cloud's injected surroundings.
type Options struct {
	Log *slog.Logger
	// Clock is the time source; nil is the real clock (in dev mode, one the
	// admin API can move forward).
	Clock clock.Clock
	// Out receives what a person at the terminal reads: the dev banner
	// (demo company ID, admin token), the listen addresses and, in dev
	// mode, every mail. Never the structured log.
	Out io.Writer
	// Ready, if set, is called once everything listens.
	Ready func(Info)
}

// Info is what a started cloud tells Options.Ready.
type Info struct {
	HTTPAddr, HTTPSAddr string
	// MQTTAddr and MQTTWSAddr are the embedded broker's bound addresses
	// ("" with an external broker).
	MQTTAddr, MQTTWSAddr string
	Endpoints            wire.Endpoints
	// Dev mode only: the demo company and the admin token.
	CompanyID, AdminToken string
	// Registry is the device registry (disable, rename, roster pushes).
	Registry *registry.Registry
}

// StoreFile is the bbolt file in the data directory.
const StoreFile = "cloud.db"

// Run runs the cloud until ctx ends.
func Run(ctx context.Context, cfg Config, o Options) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := o.Log
	var devClock *offsetClock
	clk := o.Clock
	if clk == nil {
		if cfg.Dev {
			devClock = &offsetClock{}
			clk = devClock
		} else {
			clk = clock.Real{}
		}
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	db, err := boltstore.Open(filepath.Join(cfg.DataDir, StoreFile))
	if err != nil {
		return err
	}
	defer db.Close()

	caName := "timeclock cloud CA"
	if cfg.Dev {
		caName = "timeclock dev CA (not for production)"
	}
	ca, created, err := pki.LoadOrCreate(cfg.DataDir, caName, cfg.Dev || cfg.CreateCA, clk.Now())
	if errors.Is(err, pki.ErrNoCA) {
		return fmt.Errorf("%w: put ca.pem and ca-key.pem in %s, or start once with --create-ca", err, cfg.DataDir)
	}
	if err != nil {
		return err
	}
	if created {
		log.Info("ca none -> created (first start)", "file", filepath.Join(cfg.DataDir, pki.CAFile))
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h := cfg.PublicHost; h != "localhost" && h != "127.0.0.1" && h != "::1" {
		hosts = append([]string{h}, hosts...)
	}
	serverCert, err := ca.ServerCert(cfg.DataDir, hosts, clk.Now())
	if err != nil {
		return err
	}
	// Each server gets a Clone: http.Server adds its protocols to the one
	// it is given.
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12}

	mailer, err := newMailer(cfg, out)
	if err != nil {
		return err
	}
	var ds devState
	if cfg.Dev {
		if ds, err = seedDev(ctx, db, cfg.DataDir, cfg.DemoCompanyID, clk.Now()); err != nil {
			return err
		}
		if err := seedDemoRoster(ctx, db, ds.CompanyID, clk.Now()); err != nil {
			return fmt.Errorf("dev seed: roster: %w", err)
		}
	}

	// Listen first, so a busy port is named by its flag and the MQTT
	// endpoints handed to clocks carry the real ports. With an external
	// broker the MQTT ports are the broker's, not ours.
	lns := map[string]net.Listener{}
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	toListen := []struct{ name, addr string }{{"http", cfg.HTTPAddr}, {"https", cfg.HTTPSAddr}}
	if cfg.MQTTBroker == "" {
		toListen = append(toListen, struct{ name, addr string }{"mqtt", cfg.MQTTAddr}, struct{ name, addr string }{"mqtt-ws", cfg.MQTTWSAddr})
	}
	for _, l := range toListen {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return fmt.Errorf("--%s %s: %w", l.name, l.addr, err)
		}
		lns[l.name] = ln
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mq, err := startMQTT(ctx, syncDeps{cfg: cfg, st: db, ca: ca, serverCert: serverCert,
		tlsLn: lns["mqtt"], wsLn: lns["mqtt-ws"], clk: clk, log: log, out: out})
	if err != nil {
		return err
	}
	delete(lns, "mqtt") // the broker owns them now
	delete(lns, "mqtt-ws")
	defer mq.close()

	ocfg := enroll.DefaultConfig()
	ocfg.MQTT = mq.endpoints
	ocfg.MailFrom = cfg.MailFrom
	if ocfg.MailFrom == "" {
		ocfg.MailFrom = "Timeclock Cloud <noreply@" + mailDomain(cfg.PublicHost) + ">"
	}
	svc, err := enroll.New(ocfg, enroll.Deps{Store: db, CA: ca, Mailer: mailer, Clock: clk, Log: log, Activated: mq.reg.Activated})
	if err != nil {
		return err
	}

	adm, err := newAdminSide(cfg, db, clk, log, out, registryDisabler{mq.reg})
	if err != nil {
		return err
	}

	if cfg.Dev {
		fmt.Fprintf(out, "timeclock-cloud dev mode (not for production); data in %s\n", cfg.DataDir)
		fmt.Fprintf(out, "CA for clocks: %s\n", filepath.Join(cfg.DataDir, pki.CAFile))
		// The admin pages' lines come before the onboarding ones: make run's
		// output pane shows the last lines, and onboarding needs the company ID.
		if err := printDevLogins(ctx, out, cfg, db, ds.CompanyID, clk.Now(), lns["https"].Addr().String()); err != nil {
			return err
		}
		fmt.Fprintf(out, "demo company: %s, %s; administrator %s, non-administrator %s\n",
			DemoCompanyName, DemoTimezone, DemoAdminEmail, DemoUserEmail)
		fmt.Fprintf(out, "demo company ID: %s\n", ds.CompanyID)
		fmt.Fprintf(out, "admin token: %s\n", ds.AdminToken)
		fmt.Fprintf(out, "mail goes to %s and is printed below as DEV MAIL\n", filepath.Join(cfg.DataDir, "outbox"))
	}

	errLog := stdlog.New(serverErrors{log}, "", 0)
	deps := httpapi.Deps{Onboarding: svc, Store: db, Clock: clk, Log: log, Devices: mq.reg,
		Mobile: adm.mobile, Authorize: roles.Checker{Store: db}}
	if devClock != nil {
		deps.DevClock = devClock
	}
	servers := []struct {
		name string
		srv  *http.Server
		tls  bool
	}{
		{"http", &http.Server{Handler: httpapi.NewPlain(clk, log)}, false},
		{"https", &http.Server{Handler: withAdminPages(httpapi.NewAPI(deps), adm.pages), TLSConfig: tlsCfg.Clone()}, true},
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(servers)+1)
	for _, s := range servers {
		s.srv.ErrorLog = errLog
		s.srv.ReadHeaderTimeout = 10 * time.Second
		s.srv.ReadTimeout = 30 * time.Second
		s.srv.WriteTimeout = 30 * time.Second
		s.srv.IdleTimeout = 2 * time.Minute
		ln := lns[s.name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if s.tls {
				err = s.srv.ServeTLS(ln, "", "")
			} else {
				err = s.srv.Serve(ln)
			}
			if err != nil && !isClosed(err) {
				errc <- fmt.Errorf("%s: %w", s.name, err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := svc.Run(ctx); err != nil {
			errc <- err
		}
	}()
	fmt.Fprintf(out, "listening http %s\n", lns["http"].Addr())
	fmt.Fprintf(out, "listening https %s\n", lns["https"].Addr())
	if mq.embedded != nil {
		fmt.Fprintf(out, "listening mqtt %s\n", mq.tlsAddr)
		fmt.Fprintf(out, "listening mqtt-ws %s\n", mq.wsAddr)
		fmt.Fprintf(out, "mqtt endpoints for clocks: %s and %s (embedded broker)\n", mq.endpoints.TLS, mq.endpoints.WebSocket)
	} else {
		fmt.Fprintf(out, "mqtt broker %s\n", cfg.MQTTBroker)
		fmt.Fprintf(out, "mqtt endpoints for clocks: %s and %s (external broker)\n", mq.endpoints.TLS, mq.endpoints.WebSocket)
	}
	fmt.Fprintln(out, "ready")
	log.Info("cloud starting -> serving", "dev", cfg.Dev, "data", cfg.DataDir, "https", lns["https"].Addr().String(),
		"mqtt", mq.endpoints.TLS, "external_broker", cfg.MQTTBroker)
	if o.Ready != nil {
		o.Ready(Info{HTTPAddr: lns["http"].Addr().String(), HTTPSAddr: lns["https"].Addr().String(),
			MQTTAddr: mq.tlsAddr, MQTTWSAddr: mq.wsAddr, Endpoints: mq.endpoints,
			CompanyID: ds.CompanyID, AdminToken: ds.AdminToken, Registry: mq.reg})
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	log.Info("cloud serving -> stopping", "reason", reason(ctx, runErr))
	cancel()
	shut, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	for _, s := range servers {
		s.srv.Shutdown(shut)
	}
	wg.Wait()
	mq.close()
	return runErr
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed)
}

// serverErrors takes net/http's server error log. A clock's network check
// opens TCP to 443 and closes without a handshake, every time; those are
// debug, the rest stay warnings.
type serverErrors struct{ log *slog.Logger }

func (s serverErrors) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if strings.Contains(msg, "TLS handshake error") {
		s.log.Debug(msg)
	} else {
		s.log.Warn(msg)
	}
	return len(p), nil
}

func reason(ctx context.Context, err error) string {
	if err != nil {
		return err.Error()
	}
	return context.Cause(ctx).Error()
}

// mailDomain is the From domain when none is configured.
func mailDomain(host string) string {
	if net.ParseIP(host) != nil {
		return "localhost"
	}
	return host
}

func newMailer(cfg Config, out io.Writer) (notify.Mailer, error) {
	var ms notify.MailTee
	if cfg.SMTP.Host != "" {
		sc := cfg.SMTP
		if cfg.SMTPCAFile != "" {
			b, err := os.ReadFile(cfg.SMTPCAFile)
			if err != nil {
				return nil, fmt.Errorf("smtp-ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(b) {
				return nil, fmt.Errorf("smtp-ca: %s holds no PEM certificate", cfg.SMTPCAFile)
			}
			sc.RootCAs = pool
		}
		sc.HelloName = cfg.PublicHost
		m, err := notify.NewSMTP(sc)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if cfg.Dev {
		o, err := notify.NewMailOutbox(filepath.Join(cfg.DataDir, "outbox"), out)
		if err != nil {
			return nil, err
		}
		ms = append(ms, o)
	}
	if len(ms) == 1 {
		return ms[0], nil
	}
	return ms, nil
}
