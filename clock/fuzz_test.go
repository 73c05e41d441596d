package clock

import (
	"testing"
	"time"
)

// Whatever time a sample claims (an HTTP Date, an MQTT ack's time field),
// and whatever its round trip, the keeper never panics, never sets the
// clock more than the slack below the floor or beyond the ceiling, and
// counts what it refuses.
func FuzzKeeperSample(f *testing.F) {
	f.Add(trueTime.UnixMilli(), int64(20), int64(0), false)
	f.Add(int64(0), int64(5), int64(1000), false)
	f.Add(int64(-62135596800000), int64(-1), int64(0), true)
	f.Add(int64(253402300799999), int64(1<<40), int64(1<<62), true)
	f.Fuzz(func(t *testing.T, cloudMS, rttMS, resMS int64, ntp bool) {
		fake := NewFake(time.Unix(0, 0))
		floor := Floor{Build: build}
		k := NewKeeper(KeeperOptions{Clock: fake, Setter: fake, Floor: floor, Samples: 1, NTPSynced: func() bool { return ntp }})
		s := Sample{
			Cloud:      time.UnixMilli(cloudMS),
			Sent:       fake.Now().Add(-time.Duration(rttMS) * time.Millisecond),
			Received:   fake.Now(),
			Resolution: time.Duration(resMS%2000) * time.Millisecond,
			Origin:     "fuzz",
		}
		err := k.Add(s)
		st := k.State()
		if err != nil && st.Refused == 0 && st.Steps == 0 {
			t.Fatalf("error %v neither counted nor from the setter", err)
		}
		if st.Steps > 0 {
			now := fake.Now()
			lo := floor.At(time.Unix(0, 0), false).Add(-FloorSlack)
			if now.Before(lo) || now.After(lo.Add(Ceiling+FloorSlack+time.Hour)) {
				t.Fatalf("clock set to %v, outside the floor and ceiling", now)
			}
		}
	})
}
