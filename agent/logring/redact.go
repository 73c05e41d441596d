package logring

import (
	"log/slog"
	"strings"
	"unicode"
)

// Redacted replaces the value of an attribute whose key looks secret.
const Redacted = "[redacted]"

// secretWords are the key words that mark a value as secret. A key is split
// into words (snake_case, kebab-case, camelCase), so "api_key", "pinCode"
// and "passcode_hash" match while "keypad" and "mapping" do not.
var secretWords = map[string]bool{
	"code": true, "pin": true, "passcode": true, "password": true, "passwd": true,
	"pwd": true, "passphrase": true, "key": true, "token": true, "secret": true,
	"credential": true, "credentials": true, "otp": true,
}

// IsSecretKey reports whether an attribute or config key names a secret:
// one of its words is code, pin, passcode, password, key, token, secret
// (or a close relative).
func IsSecretKey(key string) bool {
	for _, w := range words(key) {
		if secretWords[w] {
			return true
		}
	}
	return false
}

// words splits a key at non-letters and at lower-to-upper case changes, and
// lowercases the parts.
func words(key string) []string {
	var out []string
	var cur []rune
	var prev rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for _, r := range key {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
		prev = r
	}
	flush()
	return out
}

// Redact is a slog.HandlerOptions.ReplaceAttr that blanks the values of
// attributes whose key, or any enclosing group's name, looks secret. Use it
// on every handler the clock logs to, so a careless log call cannot leak a
// PIN or passcode.
func Redact(groups []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindGroup {
		return a
	}
	secret := IsSecretKey(a.Key)
	for _, g := range groups {
		secret = secret || IsSecretKey(g)
	}
	if secret {
		a.Value = slog.StringValue(Redacted)
	}
	return a
}
