package netcheck

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

const routeText = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
wlan0	00000000	0101A8C0	0003	0	0	600	00000000	0	0	0
eth0	00000000	0100000A	0003	0	0	100	00000000	0	0	0
eth0	0000000A	00000000	0001	0	0	100	00FFFFFF	0	0	0
eth1	00000000	0100000A	0002	0	0	50	00000000	0	0	0
`

const route6Text = `fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`

func TestParseRoutes(t *testing.T) {
	rs := ParseRoutes(routeText)
	if len(rs) != 2 || rs[0].Iface != "eth0" || rs[0].Gateway != netip.MustParseAddr("10.0.0.1") || rs[1].Iface != "wlan0" ||
		rs[1].Gateway != netip.MustParseAddr("192.168.1.1") {
		t.Fatalf("routes %+v (want eth0 via 10.0.0.1, then wlan0; the down route skipped)", rs)
	}
	rs6 := ParseRoutes6(route6Text)
	if len(rs6) != 1 || rs6[0].Iface != "eth0" || rs6[0].Gateway != netip.MustParseAddr("fe80::1") || rs6[0].Metric != 1024 {
		t.Fatalf("ipv6 routes %+v (want eth0 via fe80::1; the lo reject route skipped)", rs6)
	}
}

func FuzzParseRoutes(f *testing.F) {
	f.Add(routeText)
	f.Add(route6Text)
	f.Add("Iface\nx 00000000 zz 3 0 0 1 00000000\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range append(ParseRoutes(s), ParseRoutes6(s)...) {
			if r.Iface == "" || r.Metric < 0 {
				t.Fatalf("bad route %+v", r)
			}
		}
	})
}

// TestSysLinksFixture reads a fake /sys and /proc tree.
func TestSysLinksFixture(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sys/class/net/eth0/carrier", "1\n")
	write("sys/class/net/eth0/operstate", "up\n")
	write("sys/class/net/wlan0/operstate", "down\n") // carrier unreadable while down
	write("proc/net/route", routeText)
	s := SysLinks{Root: root}
	if st, err := s.Link("eth0"); err != nil || !st.Carrier || st.Oper != "up" {
		t.Errorf("eth0: %+v %v", st, err)
	}
	if st, err := s.Link("wlan0"); err != nil || st.Carrier || st.Oper != "down" {
		t.Errorf("wlan0: %+v %v", st, err)
	}
	for _, name := range []string{"eth9", "../eth0", ""} {
		if _, err := s.Link(name); !errors.Is(err, ErrNoInterface) {
			t.Errorf("%q: %v, want ErrNoInterface", name, err)
		}
	}
	rs, err := s.DefaultRoutes()
	if err != nil || len(rs) != 2 {
		t.Errorf("routes without ipv6_route: %+v %v", rs, err)
	}
	if _, err := (SysLinks{Root: t.TempDir()}).DefaultRoutes(); err == nil {
		t.Error("missing /proc/net/route was no error")
	}
}

func TestSysLinksLoopback(t *testing.T) {
	as, err := SysLinks{}.Addrs("lo")
	if err != nil {
		t.Skipf("no lo here: %v", err)
	}
	for _, a := range as {
		if usableAddr(a.Addr()) {
			t.Errorf("loopback %v taken as a usable address", a)
		}
	}
}
