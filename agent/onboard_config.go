package agent

import (
	"fmt"
	"net/url"
	"strconv"

	"timeclock/onboarding/netcheck"
)

// DefaultCloudPorts are the seed's four ports: HTTP 80, HTTPS 443, MQTT
// 59777, MQTT over WebSocket 59778.
var DefaultCloudPorts = netcheck.DefaultPorts

// CloudPortsFor returns the ports the network check tries: cloud_ports,
// with the HTTPS port taken from the cloud URL when it names one.
func (c Config) CloudPortsFor() netcheck.Ports {
	p := c.CloudPorts
	if u, err := url.Parse(c.CloudURL); err == nil && u.Port() != "" {
		if n, err := strconv.Atoi(u.Port()); err == nil {
			p.HTTPS = n
		}
	}
	return p
}

func (c Config) validateCloudPorts() error {
	if err := c.CloudPorts.Validate(); err != nil {
		return fmt.Errorf("cloud_ports: %w", err)
	}
	return nil
}
