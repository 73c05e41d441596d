package haltest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

// Recorded bus traffic lives in testdata/ as text a person can review: one
// transaction per line, "@ADDR" for I2C, then "w" and the bytes written
// and, if any, "r" and the bytes read, in hex; "#" starts a comment.
//
//	# hd44780 20x4: init
//	@27 w 08
//	@27 w 3c 38

// LoadI2C reads recorded I2C transactions.
func LoadI2C(t testing.TB, path string) []i2ctest.IO {
	t.Helper()
	var ops []i2ctest.IO
	for _, op := range load(t, path) {
		if op.addr < 0 {
			t.Fatalf("%s:%d: no @address", path, op.line)
		}
		ops = append(ops, i2ctest.IO{Addr: uint16(op.addr), W: op.w, R: op.r})
	}
	return ops
}

// SaveI2C writes recorded I2C transactions under a header comment.
func SaveI2C(t testing.TB, path, header string, ops []i2ctest.IO) {
	t.Helper()
	var b bytes.Buffer
	for _, op := range ops {
		fmt.Fprintf(&b, "@%02x", op.Addr)
		line(&b, op.W, op.R)
	}
	save(t, path, header, b.Bytes())
}

// LoadSPI reads recorded SPI transactions.
func LoadSPI(t testing.TB, path string) []conntest.IO {
	t.Helper()
	var ops []conntest.IO
	for _, op := range load(t, path) {
		ops = append(ops, conntest.IO{W: op.w, R: op.r})
	}
	return ops
}

// SaveSPI writes recorded SPI transactions under a header comment.
func SaveSPI(t testing.TB, path, header string, ops []conntest.IO) {
	t.Helper()
	var b bytes.Buffer
	for _, op := range ops {
		b.WriteString("spi")
		line(&b, op.W, op.R)
	}
	save(t, path, header, b.Bytes())
}

func line(b *bytes.Buffer, w, r []byte) {
	if len(w) > 0 {
		b.WriteString(" w")
		for _, x := range w {
			fmt.Fprintf(b, " %02x", x)
		}
	}
	if len(r) > 0 {
		b.WriteString(" r")
		for _, x := range r {
			fmt.Fprintf(b, " %02x", x)
		}
	}
	b.WriteByte('\n')
}

func save(t testing.TB, path, header string, body []byte) {
	t.Helper()
	var b bytes.Buffer
	for _, l := range strings.Split(strings.TrimSpace(header), "\n") {
		b.WriteString("# " + l + "\n")
	}
	b.Write(body)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

type op struct {
	line int
	addr int
	w, r []byte
}

func load(t testing.TB, path string) []op {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (regenerate with go test -run Playback -update)", err)
	}
	defer f.Close()
	var ops []op
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for n := 1; sc.Scan(); n++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		o := op{line: n, addr: -1}
		var dst *[]byte
		for _, fl := range fields {
			switch {
			case strings.HasPrefix(fl, "@"):
				a, err := strconv.ParseUint(fl[1:], 16, 16)
				if err != nil {
					t.Fatalf("%s:%d: address %q: %v", path, n, fl, err)
				}
				o.addr = int(a)
			case fl == "spi":
			case fl == "w":
				dst = &o.w
			case fl == "r":
				dst = &o.r
			default:
				v, err := strconv.ParseUint(fl, 16, 8)
				if err != nil || dst == nil {
					t.Fatalf("%s:%d: byte %q: want hex after w or r", path, n, fl)
				}
				*dst = append(*dst, byte(v))
			}
		}
		ops = append(ops, o)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ops
}
