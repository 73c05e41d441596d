package netcheck

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Route flags of /proc/net/route and ipv6_route.
const (
	rtfUp     = 0x0001
	rtfReject = 0x0200
)

// ParseRoutes reads /proc/net/route text and returns its usable default
// routes (destination and mask 0, up), lowest metric first. Lines it cannot
// read are skipped: the file is the kernel's, but a fixture may be anything.
func ParseRoutes(text string) []Route {
	var out []Route
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		metric, err2 := strconv.ParseUint(f[6], 10, 31)
		gw, err3 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil || err3 != nil || len(gw) != 4 || flags&rtfUp == 0 || flags&rtfReject != 0 {
			continue
		}
		r := Route{Iface: f[0], Metric: int(metric)}
		// The kernel prints the address in host order; on every Linux this
		// module targets (ARM, x86) that is little-endian.
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], binary.LittleEndian.Uint32(gw))
		if g := netip.AddrFrom4(a); !g.IsUnspecified() {
			r.Gateway = g
		}
		out = append(out, r)
	}
	byMetric(out)
	return out
}

// ParseRoutes6 reads /proc/net/ipv6_route text and returns its usable
// default routes (::/0, up, not a reject route), lowest metric first.
func ParseRoutes6(text string) []Route {
	var out []Route
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || f[0] != strings.Repeat("0", 32) || f[1] != "00" {
			continue
		}
		flags, err1 := strconv.ParseUint(f[8], 16, 32)
		metric, err2 := strconv.ParseUint(f[5], 16, 32)
		gw, err3 := hex.DecodeString(f[4])
		if err1 != nil || err2 != nil || err3 != nil || len(gw) != 16 || flags&rtfUp == 0 || flags&rtfReject != 0 || f[9] == "lo" {
			continue
		}
		r := Route{Iface: f[9], Metric: int(metric & 0x7fffffff)}
		if g := netip.AddrFrom16([16]byte(gw)); !g.IsUnspecified() {
			r.Gateway = g
		}
		out = append(out, r)
	}
	byMetric(out)
	return out
}

// byMetric orders routes by metric, keeping the kernel's order among
// equals. sort.SliceStable, not slices.SortStableFunc: the generic sort
// compiles a copy per element type.
func byMetric(rs []Route) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Metric < rs[j].Metric })
}
