package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"timeclock/cloud"
	"timeclock/cloud/notify"
	"timeclock/internal/journald"
	"timeclock/internal/sdnotify"
)

// config is the cloud's Config from the flags over the dev or production
// defaults, with the SMTP password and the SMS token read from their files
// or the environment, validated.
func config(fl *flags) (cloud.Config, error) {
	c := cloud.DefaultConfig(fl.dev)
	over := func(name string, dst *string, v string) {
		if fl.set[name] {
			*dst = v
		}
	}
	over("data", &c.DataDir, fl.data)
	over("http", &c.HTTPAddr, fl.http)
	over("https", &c.HTTPSAddr, fl.https)
	over("mqtt", &c.MQTTAddr, fl.mqtt)
	over("mqtt-ws", &c.MQTTWSAddr, fl.mqttWS)
	c.PublicHost = fl.publicHost
	c.CreateCA = fl.createCA
	c.ReleaseKeys = fl.releaseKeys
	c.SMTP = notify.SMTPConfig{Host: fl.smtpHost, Port: fl.smtpPort, TLS: notify.TLSMode(fl.smtpTLS), User: fl.smtpUser}
	c.SMTPCAFile = fl.smtpCA
	c.MailFrom = fl.mailFrom
	c.DemoCompanyID = fl.demoCompany
	c.MQTTBroker = fl.mqttBroker
	c.MQTTClientCert, c.MQTTClientKey, c.MQTTBrokerCA = fl.mqttCert, fl.mqttKey, fl.mqttBrokerCA
	c.MosquittoDir, c.MosquittoPIDFile = fl.mosqDir, fl.mosqPID
	c.DeviceMQTT, c.DeviceMQTTWS = fl.mqttEndpoint, fl.mqttWSEndpt
	if fl.smtpUser != "" {
		pw, err := secret("smtp-password-file", fl.smtpPassFile, PasswordEnv, func(s string) string { return strings.TrimRight(s, "\r\n") })
		if err != nil {
			return c, err
		}
		c.SMTP.Password = pw
	}
	c.SMS = notify.SMSConfig{URL: fl.smsURL, User: fl.smsUser, From: fl.smsFrom}
	if fl.smsURL != "" {
		tok, err := secret("sms-token-file", fl.smsTokenFile, SMSTokenEnv, strings.TrimSpace)
		if err != nil {
			return c, err
		}
		c.SMS.Token = tok
	}
	return c, c.Validate()
}

// secret reads a credential from file when one is given (trimmed), and
// otherwise from the environment variable env; never from a flag.
func secret(flagName, file, env string, trim func(string) string) (notify.Secret, error) {
	if file == "" {
		return notify.Secret(os.Getenv(env)), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flagName, err)
	}
	return notify.Secret(trim(string(b))), nil
}

// logging is where the structured log goes and from which level.
type logging struct {
	file  string // "": stderr
	level slog.Level
}

// run opens the log and runs the cloud until ctx ends.
func run(ctx context.Context, cfg cloud.Config, lg logging) error {
	log, closeLog, err := openLog(lg)
	if err != nil {
		return err
	}
	defer closeLog()
	n, err := sdnotify.FromEnv(os.Getenv, os.Getpid())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	ready := make(chan cloud.Info, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		superviseSystemd(ctx, n, ready, log)
	}()
	return cloud.Run(ctx, cfg, cloud.Options{Log: log, Out: os.Stdout, Ready: func(i cloud.Info) { ready <- i }})
}

// openLog is the structured log on stderr, or appended to the log file.
// On systemd's journal stream the lines carry their priority and no time.
func openLog(lg logging) (*slog.Logger, func(), error) {
	var out io.Writer = os.Stderr
	var replace func([]string, slog.Attr) slog.Attr
	closeLog := func() {}
	if lg.file != "" {
		// The log may live in a --data directory that the cloud has not
		// made yet (its first start): make it, as the cloud would.
		if err := os.MkdirAll(filepath.Dir(lg.file), 0o700); err != nil {
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		f, err := os.OpenFile(lg.file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		out, closeLog = f, func() { f.Close() }
	} else if journald.Stderr(os.Getenv, os.Stderr) {
		out, replace = journald.Writer(out), journald.DropTime(nil)
	}
	return slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: lg.level, ReplaceAttr: replace})), closeLog, nil
}
