package cloudsync

import (
	"errors"
	"fmt"
	"time"

	"timeclock/wire"
)

// Config tunes the sync. DefaultConfig has the production values; tests
// shorten the waits.
type Config struct {
	// BatchSize is the most punches in one message on the punches topic.
	BatchSize int
	// InFlight is how many batches may wait for the cloud's ack at once;
	// more keep the link busy while the cloud stores the earlier ones.
	InFlight int
	// AckTimeout: a batch the cloud has not acknowledged after this long on
	// a live connection is sent again (the cloud stores by punch ID).
	AckTimeout time.Duration
	// CheckinEvery is the period of the status check-in; a change of what
	// it reports publishes it at once, but not more often than StatusGap.
	CheckinEvery time.Duration
	StatusGap    time.Duration
	// BackoffMin and BackoffMax bound the reconnect backoff: the n-th
	// retry waits a random time in [0, min(BackoffMax, BackoffMin*2^n)).
	BackoffMin, BackoffMax time.Duration
	// ConnectTimeout bounds one connection attempt (TCP, TLS, WebSocket
	// upgrade, MQTT CONNECT): a port that swallows packets costs this long.
	ConnectTimeout time.Duration
	// KeepAlive is the MQTT keepalive; a dead link is noticed within
	// about 1.5 times this.
	KeepAlive time.Duration
	// RetryPreferred: while connected over the WebSocket fallback, the TLS
	// port is tried again this often, and the clock moves back when it
	// answers.
	RetryPreferred time.Duration
	// CommandMemory is how long handled command IDs are remembered.
	CommandMemory time.Duration
	// StandingEvery: a clock the broker refuses, or whose punches go
	// unacknowledged, asks the cloud whether it was disabled at most this
	// often (wire.PathStanding; the first time at once).
	StandingEvery time.Duration
}

// DefaultConfig is the clock's production tuning.
func DefaultConfig() Config {
	return Config{
		BatchSize:      2000,
		InFlight:       4,
		AckTimeout:     60 * time.Second,
		CheckinEvery:   60 * time.Second,
		StatusGap:      2 * time.Second,
		BackoffMin:     time.Second,
		BackoffMax:     5 * time.Minute,
		ConnectTimeout: 15 * time.Second,
		KeepAlive:      30 * time.Second,
		RetryPreferred: 15 * time.Minute,
		CommandMemory:  7 * 24 * time.Hour,
		StandingEvery:  5 * time.Minute,
	}
}

// Validate says which field is out of range.
func (c Config) Validate() error {
	var errs []error
	if c.BatchSize < 1 || c.BatchSize > wire.MaxBatch {
		errs = append(errs, fmt.Errorf("batch size %d out of range (1-%d)", c.BatchSize, wire.MaxBatch))
	}
	if c.InFlight < 1 || c.InFlight > 64 {
		errs = append(errs, fmt.Errorf("in flight %d out of range (1-64)", c.InFlight))
	}
	pos := []struct {
		name string
		d    time.Duration
	}{
		{"ack timeout", c.AckTimeout}, {"check-in period", c.CheckinEvery}, {"status gap", c.StatusGap},
		{"backoff min", c.BackoffMin}, {"backoff max", c.BackoffMax}, {"connect timeout", c.ConnectTimeout},
		{"keepalive", c.KeepAlive}, {"retry preferred", c.RetryPreferred}, {"command memory", c.CommandMemory},
		{"standing period", c.StandingEvery},
	}
	for _, p := range pos {
		if p.d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %v must be positive", p.name, p.d))
		}
	}
	if c.BackoffMax < c.BackoffMin {
		errs = append(errs, fmt.Errorf("backoff max %v below backoff min %v", c.BackoffMax, c.BackoffMin))
	}
	if c.KeepAlive > 0 && c.KeepAlive < time.Second {
		errs = append(errs, fmt.Errorf("keepalive %v: MQTT counts it in whole seconds", c.KeepAlive))
	}
	return errors.Join(errs...)
}
