// Package e2e tests onboarding end to end over loopback: the real
// timeclock-cloud binary in --dev mode and the real timeclockd on the
// simulated board, driven through its control socket. Codes are read from
// the cloud's outbox, as an administrator reads them from the mail.
package e2e
