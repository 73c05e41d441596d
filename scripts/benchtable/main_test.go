package main

import (
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	in := `goos: linux
BenchmarkStartToIdle-2   	      20	  30000000 ns/op	        21.5 p50-ms	        612 p99-ms
BenchmarkBinarySize/armv6 1 7340032 bytes
PASS`
	var sb strings.Builder
	failed := table(parse(strings.NewReader(in)), &sb)
	out := sb.String()
	for _, want := range []string{
		"| start to idle screen, sim board (p50) | 21.5 ms |  |  |",
		"| start to idle screen, sim board (p99) | 612 ms | <= 500 ms | **no** |",
		"| stripped agent binary, linux/arm GOARM=6 | 7.00 MiB | <= 10.0 MiB | yes |",
		"| stripped agent binary, linux/arm64 | not run | <= 10.0 MiB |  |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if failed != 1 {
		t.Errorf("failed = %d, want 1", failed)
	}
}
