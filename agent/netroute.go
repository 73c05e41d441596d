package agent

import (
	"bufio"
	"io"
	"os"
	"strings"
)

// defaultRouteIface names the interface carrying the IPv4 default route, or
// "" when there is none. It reads /proc/net/route, which needs no privileges.
func defaultRouteIface() string {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return ""
	}
	defer f.Close()
	return parseDefaultRoute(f)
}

// parseDefaultRoute reads /proc/net/route text: the first route with
// destination 0 and mask 0 wins, as the kernel's lowest-metric rule would.
func parseDefaultRoute(r io.Reader) string {
	sc := bufio.NewScanner(r)
	best, bestMetric := "", -1
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		metric := 0
		for _, c := range f[6] {
			if c < '0' || c > '9' {
				metric = -1
				break
			}
			metric = metric*10 + int(c-'0')
		}
		if metric < 0 {
			continue
		}
		if bestMetric < 0 || metric < bestMetric {
			best, bestMetric = f[0], metric
		}
	}
	return best
}
