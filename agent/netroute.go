package agent

import "timeclock/onboarding/netcheck"

// defaultRouteIface names the interface carrying the default route with the
// lowest metric, or "" when there is none. It reads /proc/net/route (and
// ipv6_route), which needs no privileges.
func defaultRouteIface() string {
	rs, err := netcheck.SysLinks{}.DefaultRoutes()
	if err != nil || len(rs) == 0 {
		return ""
	}
	return rs[0].Iface
}
