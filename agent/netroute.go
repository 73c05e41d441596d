package agent

import (
	"io"
	"strings"

	"timeclock/onboarding/netcheck"
)

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

// parseDefaultRoute reads /proc/net/route text: the default route with the
// lowest metric wins, as the kernel's rule would.
func parseDefaultRoute(r io.Reader) string {
	var b strings.Builder
	io.Copy(&b, r)
	if rs := netcheck.ParseRoutes(b.String()); len(rs) > 0 {
		return rs[0].Iface
	}
	return ""
}
