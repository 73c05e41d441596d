package wire

import (
	"strings"
	"testing"
)

func TestCheckCompanyID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"1234", true}, {"123456789012", true}, {"482913", true},
		{"", false}, {"123", false}, {"1234567890123", false}, {"12a4", false}, {"-1234", false}, {"１２３４", false},
	} {
		err := CheckCompanyID(tc.id)
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v, want ok=%v", tc.id, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "4 to 12 digits") {
			t.Errorf("%q: %v, want the rule in the message", tc.id, err)
		}
	}
}
