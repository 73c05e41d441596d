package agent

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"timeclock/onboarding/netcheck"
	"timeclock/release"
	"timeclock/wire"
)

// Config is everything the agent is told at start. Flags and the config file
// fill it in cmd/timeclockd; Validate checks it.
type Config struct {
	// StateDir holds the durable state (journal, roster, identity).
	StateDir string `json:"state_dir"`
	// CloudURL is the cloud's HTTPS base URL; empty runs the clock standalone.
	CloudURL string `json:"cloud_url"`
	// CloudCA is a PEM file with the CA to trust for the cloud; empty trusts
	// the system roots.
	CloudCA string `json:"cloud_ca"`
	// CloudPorts are the cloud's HTTP, HTTPS, MQTT and MQTT-over-WebSocket
	// ports the network check tries (a port in CloudURL wins for HTTPS).
	CloudPorts netcheck.Ports `json:"cloud_ports"`
	// RosterFile is a JSON roster imported at start (standalone and demo use).
	RosterFile string `json:"roster_file"`
	// Timezone is the IANA zone the clock shows until the cloud sets one.
	Timezone string `json:"timezone"`
	// IdleTimeout returns an unfinished interaction to the idle screen.
	IdleTimeout Duration `json:"idle_timeout"`
	// FeedbackTime is how long a punch result stays on screen.
	FeedbackTime Duration `json:"feedback_time"`
	// DuplicateWindow: the same employee again within it gets "Already
	// punched" and nothing is recorded. 0 turns the check off.
	DuplicateWindow Duration `json:"duplicate_window"`
	// Capacity is how many punches may wait for the cloud; the clock warns
	// from 80 % and refuses punches (never dropping old ones) at 100 %.
	Capacity int `json:"capacity"`
	// RetentionDays is how long punches the cloud acknowledged are kept on
	// the clock for the technician.
	RetentionDays int `json:"retention_days"`
	// MemoryLimitMiB is the Go runtime's soft memory limit for the agent
	// (runtime/debug.SetMemoryLimit: the collector works harder as the
	// agent's own memory nears it, and returns freed memory to the
	// system sooner). 0 leaves the runtime's default (none); a GOMEMLIMIT
	// in the environment wins over it.
	MemoryLimitMiB int `json:"memory_limit_mib"`
	// RecordUnknownBadges records a swipe of an unknown badge as an
	// unassigned punch (the office can assign it later).
	RecordUnknownBadges bool `json:"record_unknown_badges"`
	// SyncBackoffMin and SyncBackoffMax bound the wait before reconnecting
	// to the cloud: exponential from min, capped at max, with full jitter.
	SyncBackoffMin Duration `json:"sync_backoff_min"`
	SyncBackoffMax Duration `json:"sync_backoff_max"`
	// SyncConnectTimeout bounds one connection attempt to the broker; a
	// filtered 59777 costs this long before the WebSocket on 59778.
	SyncConnectTimeout Duration `json:"sync_connect_timeout"`
	// CheckinInterval is how often the clock checks in (status) with the
	// cloud; a change is reported at once.
	CheckinInterval Duration `json:"checkin_interval"`
	// UpdateKeys are release public keys (base64) the clock trusts for
	// over-the-air updates, besides those built in (docs/updates.md).
	UpdateKeys []string `json:"update_keys"`
	// UpdatePoll is how often the clock asks the cloud for an update.
	UpdatePoll Duration `json:"update_poll"`
	// UpdateTrial is how long a new version has to commit (its punch loop
	// running and the cloud acknowledging) before it is rolled back.
	UpdateTrial Duration `json:"update_trial"`
	// UpdateRetry is how soon a failed download or report is tried again.
	UpdateRetry Duration `json:"update_retry"`
	// Version is the firmware version reported in status.
	Version string `json:"-"`
}

// DefaultMemoryLimitMiB is the agent's default soft memory limit. Measured
// on a drain of 200,000 punches (issue 16): without a limit the agent's
// anonymous memory peaked at 14-15.7 MiB, most of it garbage waiting for
// the collector; at 16 MiB it peaked at 12.9 MiB with no drain speed lost
// within the machine's noise; at 12 MiB at 9.0 MiB, but the drain ran about
// a third slower (the collector ran all the time).
const DefaultMemoryLimitMiB = 16

// DefaultConfig returns the defaults every field starts from.
func DefaultConfig() Config {
	return Config{
		StateDir:     "/var/lib/timeclock",
		CloudPorts:   DefaultCloudPorts,
		Timezone:     "UTC",
		IdleTimeout:  Duration(10 * time.Second),
		FeedbackTime: Duration(2 * time.Second),

		DuplicateWindow:     Duration(60 * time.Second),
		Capacity:            200_000,
		RetentionDays:       30,
		MemoryLimitMiB:      DefaultMemoryLimitMiB,
		RecordUnknownBadges: true,
		SyncBackoffMin:      Duration(time.Second),
		SyncBackoffMax:      Duration(5 * time.Minute),
		SyncConnectTimeout:  Duration(15 * time.Second),
		CheckinInterval:     Duration(60 * time.Second),
		UpdatePoll:          Duration(15 * time.Minute),
		UpdateTrial:         Duration(15 * time.Minute),
		UpdateRetry:         Duration(10 * time.Second),
		Version:             "dev",
	}
}

// Validate checks the config and says which field is wrong.
func (c Config) Validate() error {
	var errs []error
	if c.StateDir == "" {
		errs = append(errs, errors.New("state_dir: missing"))
	}
	if c.CloudURL != "" {
		u, err := url.Parse(c.CloudURL)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("cloud_url: %w", err))
		case u.Scheme != "https":
			errs = append(errs, fmt.Errorf("cloud_url: %q must be an https:// URL", c.CloudURL))
		case u.Host == "":
			errs = append(errs, fmt.Errorf("cloud_url: %q has no host", c.CloudURL))
		}
	}
	if err := c.validateCloudPorts(); err != nil {
		errs = append(errs, err)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		errs = append(errs, fmt.Errorf("timezone: %w", err))
	}
	if c.IdleTimeout.D() < time.Second {
		errs = append(errs, fmt.Errorf("idle_timeout: %v is shorter than 1s", c.IdleTimeout.D()))
	}
	if c.FeedbackTime.D() < 100*time.Millisecond || c.FeedbackTime.D() > time.Minute {
		errs = append(errs, fmt.Errorf("feedback_time: %v out of range (100ms-1m)", c.FeedbackTime.D()))
	}
	if c.DuplicateWindow.D() < 0 || c.DuplicateWindow.D() > 24*time.Hour {
		errs = append(errs, fmt.Errorf("duplicate_window: %v out of range (0-24h)", c.DuplicateWindow.D()))
	}
	if c.Capacity < 100 || c.Capacity > wire.MaxPending {
		errs = append(errs, fmt.Errorf("capacity: %d out of range (100-%d)", c.Capacity, wire.MaxPending))
	}
	if c.MemoryLimitMiB != 0 && (c.MemoryLimitMiB < 8 || c.MemoryLimitMiB > 4096) {
		errs = append(errs, fmt.Errorf("memory_limit_mib: %d out of range (0 for none, or 8-4096)", c.MemoryLimitMiB))
	}
	if c.RetentionDays < 1 || c.RetentionDays > 3650 {
		errs = append(errs, fmt.Errorf("retention_days: %d out of range (1-3650)", c.RetentionDays))
	}
	if c.SyncBackoffMin.D() < 10*time.Millisecond || c.SyncBackoffMax.D() < c.SyncBackoffMin.D() || c.SyncBackoffMax.D() > 24*time.Hour {
		errs = append(errs, fmt.Errorf("sync_backoff_min, sync_backoff_max: %v, %v out of range (10ms <= min <= max <= 24h)", c.SyncBackoffMin.D(), c.SyncBackoffMax.D()))
	}
	if c.SyncConnectTimeout.D() < 100*time.Millisecond || c.SyncConnectTimeout.D() > 5*time.Minute {
		errs = append(errs, fmt.Errorf("sync_connect_timeout: %v out of range (100ms-5m)", c.SyncConnectTimeout.D()))
	}
	if c.CheckinInterval.D() < time.Second || c.CheckinInterval.D() > 24*time.Hour {
		errs = append(errs, fmt.Errorf("checkin_interval: %v out of range (1s-24h)", c.CheckinInterval.D()))
	}
	for i, k := range c.UpdateKeys {
		if _, err := release.ParsePublicKey(k); err != nil {
			errs = append(errs, fmt.Errorf("update_keys[%d]: %w", i, err))
		}
	}
	if c.UpdatePoll.D() < 100*time.Millisecond || c.UpdatePoll.D() > 7*24*time.Hour {
		errs = append(errs, fmt.Errorf("update_poll: %v out of range (100ms-168h)", c.UpdatePoll.D()))
	}
	if c.UpdateTrial.D() < 5*time.Second || c.UpdateTrial.D() > 24*time.Hour {
		errs = append(errs, fmt.Errorf("update_trial: %v out of range (5s-24h)", c.UpdateTrial.D()))
	}
	if c.UpdateRetry.D() < 100*time.Millisecond || c.UpdateRetry.D() > time.Hour {
		errs = append(errs, fmt.Errorf("update_retry: %v out of range (100ms-1h)", c.UpdateRetry.D()))
	}
	return errors.Join(errs...)
}

// Duration is a time.Duration that reads and writes as "10s" in JSON.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes "10s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "10s", "1m30s" and the like.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
