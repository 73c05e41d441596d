package punchflow

import (
	"reflect"
	"testing"
)

func TestNotices(t *testing.T) {
	for _, tc := range []struct {
		recovered bool
		fill      float64
		cols      int
		want      []string
	}{
		{false, 0.5, 20, nil},
		{false, 0.85, 20, []string{"Storage 85% full"}},
		{false, 1, 16, []string{"Storage FULL,", "call service"}},
		{true, 0, 20, []string{"Storage recovered,", "call service"}},
		{true, 0, 16, []string{"Data recovered,", "call service"}},
		{true, 1, 21, []string{"Storage recovered,", "call service", "Storage FULL,", "call service"}},
	} {
		if got := Notices(tc.recovered, tc.fill, tc.cols); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Notices(%v, %v, %d) = %q, want %q", tc.recovered, tc.fill, tc.cols, got, tc.want)
		}
	}
}
