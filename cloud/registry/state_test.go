package registry

import (
	"testing"

	"timeclock/cloud/store"
)

func TestNext(t *testing.T) {
	A, G, D := store.DeviceApproved, store.DeviceDisabling, store.DeviceDisabled
	for _, tc := range []struct {
		from store.DeviceStatus
		ev   Event
		to   store.DeviceStatus
	}{
		{A, EvDisable, G}, {A, EvDisableNow, D}, {A, EvFinalReported, A}, {A, EvActivated, A},
		{G, EvDisable, G}, {G, EvDisableNow, D}, {G, EvFinalReported, D}, {G, EvActivated, A},
		{D, EvDisable, D}, {D, EvDisableNow, D}, {D, EvFinalReported, D}, {D, EvActivated, A},
	} {
		if got := next(tc.from, tc.ev); got != tc.to {
			t.Errorf("%s + %s = %s, want %s", tc.from, tc.ev, got, tc.to)
		}
	}
	if !mayConnect(A) || !mayConnect(G) || mayConnect(D) {
		t.Error("mayConnect: approved and disabling connect, disabled does not")
	}
}
