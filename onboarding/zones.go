package onboarding

import (
	"slices"
	"time"
)

// DefaultZones are offered at the timezone confirm after the company's own,
// for a site in another zone than its company: the US zones east to west
// (the likely ones, in the order a map shows them), then UTC, then the rest
// of the world. The cloud can set any zone later.
var DefaultZones = []string{
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "Pacific/Honolulu",
	"UTC",
	"America/Toronto", "America/Vancouver", "America/Mexico_City",
	"America/Sao_Paulo", "Europe/London", "Europe/Paris", "Europe/Berlin", "Africa/Johannesburg",
	"Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland",
}

// zoneChoices is the company's zone first, then the others once each.
func zoneChoices(company string, others []string) []string {
	if others == nil {
		others = DefaultZones
	}
	out := []string{company}
	for _, z := range others {
		if !slices.Contains(out, z) {
			out = append(out, z)
		}
	}
	return out
}

func zoneLocation(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}
