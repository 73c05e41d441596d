package netcheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoInterface is returned for an interface the device does not have.
var ErrNoInterface = errors.New("no such interface")

// SysLinks reads the real interfaces: /sys/class/net for carrier and
// operstate, the kernel's address list, /proc/net/route and ipv6_route for
// default routes. It needs no privileges.
type SysLinks struct {
	// Root prefixes /sys and /proc; "" is "/". Tests point it at fixtures.
	Root string
}

var _ Links = SysLinks{}

func (s SysLinks) path(p string) string {
	if s.Root == "" {
		return p
	}
	return filepath.Join(s.Root, p)
}

// Link reads /sys/class/net/NAME/{carrier,operstate}.
func (s SysLinks) Link(name string) (LinkState, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return LinkState{}, fmt.Errorf("link %q: %w", name, ErrNoInterface)
	}
	dir := s.path(filepath.Join("/sys/class/net", name))
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return LinkState{}, fmt.Errorf("%s: %w", name, ErrNoInterface)
	} else if err != nil {
		return LinkState{}, fmt.Errorf("link %s: %w", name, err)
	}
	var st LinkState
	if b, err := os.ReadFile(filepath.Join(dir, "operstate")); err == nil {
		st.Oper = strings.TrimSpace(string(b))
	}
	// Reading carrier fails with EINVAL while the interface is down: no carrier.
	if b, err := os.ReadFile(filepath.Join(dir, "carrier")); err == nil {
		st.Carrier = strings.TrimSpace(string(b)) == "1"
	}
	return st, nil
}

// Addrs lists the interface's addresses as the kernel reports them.
func (s SysLinks) Addrs(name string) ([]netip.Prefix, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, ErrNoInterface)
	}
	as, err := ifc.Addrs()
	if err != nil {
		return nil, fmt.Errorf("addresses of %s: %w", name, err)
	}
	var out []netip.Prefix
	for _, a := range as {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ones, _ := ipn.Mask.Size()
		out = append(out, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return out, nil
}

// DefaultRoutes reads /proc/net/route and /proc/net/ipv6_route. A missing
// ipv6_route (IPv6 disabled) is not an error.
func (s SysLinks) DefaultRoutes() ([]Route, error) {
	b, err := os.ReadFile(s.path("/proc/net/route"))
	if err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	rs := ParseRoutes(string(b))
	if b, err := os.ReadFile(s.path("/proc/net/ipv6_route")); err == nil {
		rs = append(rs, ParseRoutes6(string(b))...)
	}
	return rs, nil
}

// SysNet is the system's resolver and dialer.
type SysNet struct {
	// Resolver overrides net.DefaultResolver (tests point it at their own
	// DNS server).
	Resolver *net.Resolver
}

var _ Net = SysNet{}

// LookupNetIP resolves host.
func (s SysNet) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r := s.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	return r.LookupNetIP(ctx, network, host)
}

// DialContext connects.
func (SysNet) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}
