package console

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

func TestHashAndVerify(t *testing.T) {
	h, err := HashPasscodeCost("2468", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h, "2468") || !strings.HasPrefix(h, "$2a$") {
		t.Fatalf("hash %q", h)
	}
	h2, _ := HashPasscodeCost("2468", bcrypt.MinCost)
	if h == h2 {
		t.Fatal("two hashes of one passcode are equal: no salt")
	}
	for _, tc := range []struct {
		try  string
		want bool
	}{{"2468", true}, {"2469", false}, {"", false}, {"24680", false}, {strings.Repeat("9", 100), false}} {
		ok, err := VerifyPasscode(h, tc.try)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tc.try, ok, err, tc.want)
		}
	}
}

func TestHashRefusesBadLength(t *testing.T) {
	for _, p := range []string{"", "123", strings.Repeat("x", passcodeMaxLen+1)} {
		if _, err := HashPasscodeCost(p, bcrypt.MinCost); err == nil {
			t.Errorf("Hash(%d chars) accepted", len(p))
		}
	}
}

func argonHashOf(pass string, m, tm uint32, p uint8) string {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(pass), salt, tm, m, p, 32)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, tm, p,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func TestArgon2id(t *testing.T) {
	h := argonHashOf("tech-7788", 1024, 1, 1)
	if ok, err := VerifyPasscode(h, "tech-7788"); !ok || err != nil {
		t.Fatalf("right passcode: %v %v", ok, err)
	}
	if ok, err := VerifyPasscode(h, "tech-7789"); ok || err != nil {
		t.Fatalf("wrong passcode: %v %v", ok, err)
	}
}

func TestMalformedHashes(t *testing.T) {
	for _, h := range []string{
		"", "2468", "$1$abc", "$2b$99$xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		"$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$",
		"$argon2id$v=18$m=1024,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
		"$argon2id$v=19$m=4194304,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
		"$argon2id$v=19$t=1,m=1024,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
		"$argon2id$v=19$m=1024,t=0,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
	} {
		ok, err := VerifyPasscode(h, "2468")
		if ok || !errors.Is(err, errMalformedHash) {
			t.Errorf("Verify(%q) = %v, %v; want ErrMalformed", h, ok, err)
		}
	}
}

func FuzzVerifyPasscode(f *testing.F) {
	good, _ := HashPasscodeCost("2468", bcrypt.MinCost)
	f.Add(good, "2468")
	f.Add(argonHashOf("x1y2", 64, 1, 1), "x1y2")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "")
	f.Add("$2b$", "\x00")
	f.Fuzz(func(t *testing.T, hash, pass string) {
		ok, err := VerifyPasscode(hash, pass)
		if ok && err != nil {
			t.Fatalf("match with an error: %v", err)
		}
		if err != nil && checkPasscodeHash(hash) == nil && !strings.HasPrefix(hash, "$2") {
			t.Fatalf("Check passed but Verify failed: %v", err)
		}
	})
}

// BenchmarkVerifyPasscode is what one console login attempt costs at the cost
// HashPasscode uses (the clock's CPU is busy that long per attempt).
func BenchmarkVerifyPasscode(b *testing.B) {
	h, err := HashPasscode("2468")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for b.Loop() {
		if ok, _ := VerifyPasscode(h, "1357"); ok {
			b.Fatal("wrong passcode matched")
		}
	}
	b.ReportMetric(float64(time.Since(start))/float64(time.Millisecond)/float64(b.N), "ms/check")
}
