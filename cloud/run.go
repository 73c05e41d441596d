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
	"timeclock/cloud/access"
	"timeclock/cloud/enroll"
	"timeclock/cloud/httpapi"
	"timeclock/cloud/notify"
	"timeclock/cloud/pki"
	"timeclock/cloud/registry"
	"timeclock/cloud/store"
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

// Run runs the cloud until ctx ends. Start-up is the steps below, in
// order; when one fails, what the earlier ones opened is closed again.
func Run(ctx context.Context, cfg Config, o Options) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	env := newRunEnv(cfg, o)
	db, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg, err = storedSettings(ctx, cfg, db); err != nil {
		return err
	}
	ca, tlsCfg, err := openPKI(cfg, env)
	if err != nil {
		return err
	}
	mailer, err := newMailer(cfg, env.out)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	ds, err := seedDevData(ctx, cfg, db, env.clk)
	if err != nil {
		return err
	}
	lns, err := listen(cfg)
	if err != nil {
		return err
	}
	defer lns.close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mq, err := startMQTT(ctx, syncDeps{cfg: cfg, st: db, ca: ca, serverCert: tlsCfg.Certificates[0],
		tlsLn: lns["mqtt"], wsLn: lns["mqtt-ws"], clk: env.clk, log: env.log, out: env.out})
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	lns.handOver("mqtt", "mqtt-ws") // the broker owns them now
	defer mq.close()
	svc, err := newEnrollment(cfg, db, ca, mailer, env, mq)
	if err != nil {
		return err
	}
	adm, err := newAdminSide(cfg, db, env.clk, env.log, env.out, registryDisabler{mq.reg})
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	if cfg.Dev {
		if err := printDevBanner(ctx, env, cfg, db, ds, lns["https"].Addr().String()); err != nil {
			return err
		}
	}
	srv := startServers(ctx, env, lns, tlsCfg, httpsHandler(db, env, svc, mq, adm), svc)
	announce(cfg, env, lns, mq)
	if o.Ready != nil {
		o.Ready(Info{HTTPAddr: lns["http"].Addr().String(), HTTPSAddr: lns["https"].Addr().String(),
			MQTTAddr: mq.tlsAddr, MQTTWSAddr: mq.wsAddr, Endpoints: mq.endpoints,
			CompanyID: ds.CompanyID, AdminToken: ds.AdminToken, Registry: mq.reg})
	}

	runErr := srv.wait(ctx)
	env.log.Info("cloud serving -> stopping", "reason", reason(ctx, runErr))
	cancel()
	srv.shutdown()
	mq.close()
	return runErr
}

// storedSettings completes the config with the mail and SMS settings kept
// in the store, then checks the cloud can mail its codes.
func storedSettings(ctx context.Context, cfg Config, db store.Store) (Config, error) {
	var s store.Settings
	err := db.View(ctx, func(tx store.Tx) error {
		var err error
		s, err = tx.Settings()
		return err
	})
	if err != nil {
		return cfg, fmt.Errorf("settings: %w", err)
	}
	cfg = cfg.withSettings(s)
	return cfg, cfg.checkMail()
}

// runEnv is Options resolved: the logger, the clock and where a person
// reads the cloud's output.
type runEnv struct {
	log      *slog.Logger
	clk      clock.Clock
	devClock *offsetClock // the clock the dev admin API moves; nil otherwise
	out      io.Writer
}

func newRunEnv(cfg Config, o Options) runEnv {
	env := runEnv{log: o.Log, clk: o.Clock, out: o.Out}
	if env.clk == nil {
		if cfg.Dev {
			env.devClock = &offsetClock{}
			env.clk = env.devClock
		} else {
			env.clk = clock.Real{}
		}
	}
	if env.out == nil {
		env.out = io.Discard
	}
	return env
}

// openStore opens (creating) the data directory and the store in it.
func openStore(cfg Config) (*boltstore.DB, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	return boltstore.Open(filepath.Join(cfg.DataDir, StoreFile))
}

// openPKI loads the CA (creating it in dev mode or with --create-ca) and
// the server certificate for the public host and loopback. The TLS config
// holds that certificate; each server gets a Clone, as http.Server adds
// its protocols to the one it is given.
func openPKI(cfg Config, env runEnv) (*pki.CA, *tls.Config, error) {
	caName := "timeclock cloud CA"
	if cfg.Dev {
		caName = "timeclock dev CA (not for production)"
	}
	ca, created, err := pki.LoadOrCreate(cfg.DataDir, caName, cfg.Dev || cfg.CreateCA, env.clk.Now())
	if errors.Is(err, pki.ErrNoCA) {
		return nil, nil, fmt.Errorf("%w: put ca.pem and ca-key.pem in %s, or start once with --create-ca", err, cfg.DataDir)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("ca: %w", err)
	}
	if created {
		env.log.Info("ca none -> created (first start)", "file", filepath.Join(cfg.DataDir, pki.CAFile))
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h := cfg.PublicHost; h != "localhost" && h != "127.0.0.1" && h != "::1" {
		hosts = append([]string{h}, hosts...)
	}
	serverCert, err := ca.ServerCert(cfg.DataDir, hosts, env.clk.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("https certificate: %w", err)
	}
	// Clocks present their device certificate for the update routes
	// (httpapi's clockDevice); nobody else is asked for one.
	clients := x509.NewCertPool()
	clients.AddCert(ca.Cert)
	return ca, &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12,
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: clients}, nil
}

// seedDevData makes, in dev mode only, the demo company with its admin
// token and its demo roster.
func seedDevData(ctx context.Context, cfg Config, db store.Store, clk clock.Clock) (devState, error) {
	if !cfg.Dev {
		return devState{}, nil
	}
	ds, err := seedDev(ctx, db, cfg.DataDir, cfg.DemoCompanyID, clk.Now())
	if err != nil {
		return ds, err
	}
	if err := seedDemoRoster(ctx, db, ds.CompanyID, clk.Now()); err != nil {
		return ds, fmt.Errorf("dev seed: roster: %w", err)
	}
	return ds, nil
}

// listeners are the bound ports by flag name: "http", "https" and, with
// the embedded broker, "mqtt" and "mqtt-ws".
type listeners map[string]net.Listener

// listen binds every port first, so a busy port is named by its flag and
// the MQTT endpoints handed to clocks carry the real ports. With an
// external broker the MQTT ports are the broker's, not ours.
func listen(cfg Config) (listeners, error) {
	toListen := []struct{ name, addr string }{{"http", cfg.HTTPAddr}, {"https", cfg.HTTPSAddr}}
	if cfg.MQTTBroker == "" {
		toListen = append(toListen, struct{ name, addr string }{"mqtt", cfg.MQTTAddr}, struct{ name, addr string }{"mqtt-ws", cfg.MQTTWSAddr})
	}
	lns := listeners{}
	for _, l := range toListen {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			lns.close()
			return nil, fmt.Errorf("--%s %s: %w", l.name, l.addr, err)
		}
		lns[l.name] = ln
	}
	return lns, nil
}

// handOver forgets the named listeners: their new owner closes them.
func (l listeners) handOver(names ...string) {
	for _, n := range names {
		delete(l, n)
	}
}

// close closes the listeners still owned here.
func (l listeners) close() {
	for _, ln := range l {
		ln.Close()
	}
}

// newEnrollment is the onboarding service with the clocks' MQTT endpoints
// and the From address of its mail.
func newEnrollment(cfg Config, db store.Store, ca *pki.CA, mailer notify.Mailer, env runEnv, mq *mqttSide) (*enroll.Service, error) {
	ecfg := enroll.DefaultConfig()
	ecfg.MQTT = mq.endpoints
	ecfg.MailFrom = cfg.MailFrom
	if ecfg.MailFrom == "" {
		ecfg.MailFrom = "Timeclock Cloud <noreply@" + mailDomain(cfg.PublicHost) + ">"
	}
	return enroll.New(ecfg, enroll.Deps{Store: db, CA: ca, Mailer: mailer, Clock: env.clk, Log: env.log, Activated: mq.reg.Activated})
}

// printDevBanner tells the person running the dev cloud what they need:
// where the data and the CA are, the admin pages' logins, the demo company
// and where its mail goes.
func printDevBanner(ctx context.Context, env runEnv, cfg Config, db store.Store, ds devState, httpsAddr string) error {
	out := env.out
	fmt.Fprintf(out, "timeclock-cloud dev mode (not for production); data in %s\n", cfg.DataDir)
	fmt.Fprintf(out, "CA for clocks: %s\n", filepath.Join(cfg.DataDir, pki.CAFile))
	// The admin pages' lines come before the onboarding ones: make run's
	// output pane shows the last lines, and onboarding needs the company ID.
	if err := printDevLogins(ctx, out, cfg, db, ds.CompanyID, env.clk.Now(), httpsAddr); err != nil {
		return err
	}
	fmt.Fprintf(out, "demo company: %s, %s; administrator %s, non-administrator %s\n",
		DemoCompanyName, DemoTimezone, DemoAdminEmail, DemoUserEmail)
	fmt.Fprintf(out, "demo company ID: %s\n", ds.CompanyID)
	fmt.Fprintf(out, "admin token: %s\n", ds.AdminToken)
	fmt.Fprintf(out, "mail goes to %s and is printed below as DEV MAIL\n", filepath.Join(cfg.DataDir, "outbox"))
	return nil
}

// httpsHandler is what the HTTPS port serves: the admin pages under
// /admin/, the API (onboarding, admin, mobile, the dev clock) for the rest.
func httpsHandler(db store.Store, env runEnv, svc *enroll.Service, mq *mqttSide, adm *adminSide) http.Handler {
	api := httpapi.Deps{Onboarding: svc, Store: db, Clock: env.clk, Log: env.log, Devices: mq.reg,
		Mobile: adm.mobile, Authorize: access.Checker{Store: db}, Releases: adm.releases}
	if env.devClock != nil {
		api.DevClock = env.devClock
	}
	return withAdminPages(httpapi.NewAPI(api), adm.pages)
}

// servers are the plain HTTP and the HTTPS servers and the onboarding
// service's background work, each in a goroutine that shutdown waits for.
type servers struct {
	list []namedServer
	wg   sync.WaitGroup
	errc chan error // the first failure of any of them
}

type namedServer struct {
	name string
	srv  *http.Server
	tls  bool
}

// startServers serves the plain HTTP port and the HTTPS port (the API and
// the admin pages) on their listeners and runs the onboarding service.
func startServers(ctx context.Context, env runEnv, lns listeners, tlsCfg *tls.Config, https http.Handler, svc *enroll.Service) *servers {
	s := &servers{list: []namedServer{
		{"http", &http.Server{Handler: httpapi.NewPlain(env.clk, env.log)}, false},
		{"https", &http.Server{Handler: https, TLSConfig: tlsCfg.Clone()}, true},
	}}
	s.errc = make(chan error, len(s.list)+1)
	errLog := stdlog.New(serverErrors{env.log}, "", 0)
	for _, ns := range s.list {
		ns.srv.ErrorLog = errLog
		ns.srv.ReadHeaderTimeout = 10 * time.Second
		ns.srv.ReadTimeout = 30 * time.Second
		ns.srv.WriteTimeout = 30 * time.Second
		ns.srv.IdleTimeout = 2 * time.Minute
		ln := lns[ns.name]
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			var err error
			if ns.tls {
				err = ns.srv.ServeTLS(ln, "", "")
			} else {
				err = ns.srv.Serve(ln)
			}
			if err != nil && !isClosed(err) {
				s.errc <- fmt.Errorf("%s: %w", ns.name, err)
			}
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := svc.Run(ctx); err != nil {
			s.errc <- err
		}
	}()
	return s
}

// wait returns when ctx ends (nil) or a server fails (its error).
func (s *servers) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.errc:
		return err
	}
}

// shutdown stops the servers, giving requests in flight 5 s, and waits
// for every goroutine; the caller has cancelled the onboarding service's
// context.
func (s *servers) shutdown() {
	shut, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	for _, ns := range s.list {
		ns.srv.Shutdown(shut)
	}
	s.wg.Wait()
}

// announce prints the listening addresses and "ready", and logs the start.
func announce(cfg Config, env runEnv, lns listeners, mq *mqttSide) {
	out := env.out
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
	env.log.Info("cloud starting -> serving", "dev", cfg.Dev, "data", cfg.DataDir, "https", lns["https"].Addr().String(),
		"mqtt", mq.endpoints.TLS, "external_broker", cfg.MQTTBroker)
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

// newMailer is SMTP when configured, and in dev mode the outbox too.
func newMailer(cfg Config, out io.Writer) (notify.Mailer, error) {
	var ms notify.MailTee
	if cfg.SMTP.Host != "" {
		sc := cfg.SMTP
		if cfg.SMTPCAFile == "" && len(cfg.SMTPCAPEM) > 0 {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(cfg.SMTPCAPEM) {
				return nil, errors.New("smtp ca (stored with mail set): no PEM certificate")
			}
			sc.RootCAs = pool
		}
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
