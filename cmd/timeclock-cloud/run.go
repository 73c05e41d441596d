package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"timeclock/cloud"
	"timeclock/cloud/notify"
)

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
	c.SMTP = notify.SMTPConfig{Host: fl.smtpHost, Port: fl.smtpPort, TLS: notify.TLSMode(fl.smtpTLS), User: fl.smtpUser}
	c.SMTPCAFile = fl.smtpCA
	c.MailFrom = fl.mailFrom
	c.DemoCompanyID = fl.demoCompany
	c.MQTTBroker = fl.mqttBroker
	c.MQTTClientCert, c.MQTTClientKey, c.MQTTBrokerCA = fl.mqttCert, fl.mqttKey, fl.mqttBrokerCA
	c.MosquittoDir, c.MosquittoPIDFile = fl.mosqDir, fl.mosqPID
	c.DeviceMQTT, c.DeviceMQTTWS = fl.mqttEndpoint, fl.mqttWSEndpt
	if fl.smtpUser != "" {
		switch {
		case fl.smtpPassFile != "":
			b, err := os.ReadFile(fl.smtpPassFile)
			if err != nil {
				return c, fmt.Errorf("smtp-password-file: %w", err)
			}
			c.SMTP.Password = notify.Secret(strings.TrimRight(string(b), "\r\n"))
		default:
			c.SMTP.Password = notify.Secret(os.Getenv(PasswordEnv))
		}
	}
	c.SMS = notify.SMSConfig{URL: fl.smsURL, User: fl.smsUser, From: fl.smsFrom}
	if fl.smsURL != "" {
		switch {
		case fl.smsTokenFile != "":
			b, err := os.ReadFile(fl.smsTokenFile)
			if err != nil {
				return c, fmt.Errorf("sms-token-file: %w", err)
			}
			c.SMS.Token = notify.Secret(strings.TrimSpace(string(b)))
		default:
			c.SMS.Token = notify.Secret(os.Getenv(SMSTokenEnv))
		}
	}
	return c, c.Validate()
}

func run(ctx context.Context, fl *flags) error {
	cfg, err := config(fl)
	if err != nil {
		return err
	}
	var logOut io.Writer = os.Stderr
	if fl.logFile != "" {
		f, err := os.OpenFile(fl.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("log file: %w", err)
		}
		defer f.Close()
		logOut = f
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: fl.level}))
	return cloud.Run(ctx, cfg, cloud.Options{Log: log, Out: os.Stdout})
}
