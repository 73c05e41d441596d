package clock

import (
	"errors"
	"testing"
	"time"
)

var (
	build    = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	trueTime = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
)

func TestFloor(t *testing.T) {
	lastGood := build.Add(10 * 24 * time.Hour)
	f := Floor{Build: build, LastGood: lastGood}
	tests := []struct {
		name    string
		now     time.Time
		trusted bool
		want    time.Time
	}{
		{"1970 clock", time.Unix(0, 0), false, lastGood},
		{"clock ahead, untrusted", trueTime, false, lastGood},
		{"clock ahead, trusted", trueTime, true, trueTime},
		{"trusted clock below the floor", build, true, lastGood},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.At(tt.now, tt.trusted); !got.Equal(tt.want) {
				t.Errorf("At = %v, want %v", got, tt.want)
			}
		})
	}
	if got := (Floor{Build: build}).At(time.Unix(0, 0), false); !got.Equal(build) {
		t.Errorf("no last-good: At = %v, want the build time", got)
	}
	if got := (Floor{}).At(time.Unix(0, 0), false); !got.Equal(MinValid) {
		t.Errorf("no build time: At = %v, want MinValid", got)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		t    time.Time
		want error
	}{
		{build, nil},
		{build.Add(-FloorSlack), nil},
		{build.Add(-FloorSlack - time.Millisecond), ErrBelowFloor},
		{time.Unix(0, 0), ErrBelowFloor},
		{build.Add(Ceiling), nil},
		{build.Add(Ceiling + time.Second), ErrAboveCeiling},
	}
	for _, tt := range tests {
		if err := Check(tt.t, build); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("Check(%v) = %v, want %v", tt.t, err, tt.want)
		}
	}
	if got := Raise(time.Unix(0, 0), build); !got.Equal(build) {
		t.Errorf("Raise below the floor = %v", got)
	}
	if got := Raise(trueTime, build); !got.Equal(trueTime) {
		t.Errorf("Raise above the floor = %v", got)
	}
}

func TestBuildTimeFromLinker(t *testing.T) {
	old := buildTime
	defer func() { buildTime = old }()
	buildTime = "2026-11-01T00:00:00Z"
	if got := BuildTime(); !got.Equal(build) {
		t.Errorf("BuildTime = %v, want %v", got, build)
	}
}

// sample is the cloud answering at cloud time trueNow, the question having
// left rtt earlier by the local clock.
func sample(local time.Time, cloud time.Time, rtt time.Duration) Sample {
	return Sample{Cloud: cloud.Add(-rtt / 2), Sent: local.Add(-rtt), Received: local, Origin: "test"}
}

type recorder struct {
	fake *Fake
	sets []time.Time
	err  error
}

func (r *recorder) SetTime(t time.Time) error {
	if r.err != nil {
		return r.err
	}
	r.sets = append(r.sets, t)
	return r.fake.SetTime(t)
}

func TestKeeperSetsAClockFarInThePast(t *testing.T) {
	fake := NewFake(time.Unix(1000, 0))
	set := &recorder{fake: fake}
	var changes []State
	k := NewKeeper(KeeperOptions{Clock: fake, Setter: set, Floor: Floor{Build: build}, OnChange: func(s State) { changes = append(changes, s) }})
	if got := k.Source(); got != SourceUnset {
		t.Fatalf("source at 1970 = %s, want unset", got)
	}
	if got := k.TLSTime(); !got.Equal(build) {
		t.Fatalf("TLS time at 1970 = %v, want the build time", got)
	}
	offset := trueTime.Sub(fake.Now())
	for i, rtt := range []time.Duration{300 * time.Millisecond, 40 * time.Millisecond, 200 * time.Millisecond} {
		if err := k.Add(sample(fake.Now(), fake.Now().Add(offset), rtt)); err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		if i < 2 && len(set.sets) != 0 {
			t.Fatalf("clock set after %d samples", i+1)
		}
		fake.Advance(time.Second)
	}
	if len(set.sets) != 1 {
		t.Fatalf("clock set %d times, want 1", len(set.sets))
	}
	if d := fake.Now().Sub(trueTime.Add(3 * time.Second)); abs(d) > time.Millisecond {
		t.Errorf("clock after setting is off by %v", d)
	}
	st := k.State()
	if st.Source != SourceCloud || st.Steps != 1 || st.Offset != 0 || !st.OffsetKnown {
		t.Errorf("state after setting = %+v", st)
	}
	if len(changes) != 1 || changes[0].Source != SourceCloud {
		t.Errorf("OnChange calls = %+v", changes)
	}
}

func TestKeeperDecisions(t *testing.T) {
	tests := []struct {
		name       string
		offset     time.Duration
		ntp        bool
		wantSet    bool
		wantSource Source
	}{
		{"small offset confirms the clock", 400 * time.Millisecond, false, false, SourceCloud},
		{"offset over a second sets it", 1500 * time.Millisecond, false, true, SourceCloud},
		{"clock ahead is set back", -90 * time.Second, false, true, SourceCloud},
		{"NTP synced: measured, left alone", 30 * time.Second, true, false, SourceNTP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := NewFake(trueTime.Add(-tt.offset))
			set := &recorder{fake: fake}
			k := NewKeeper(KeeperOptions{Clock: fake, Setter: set, Floor: Floor{Build: build}, NTPSynced: func() bool { return tt.ntp }})
			if !tt.ntp && k.Source() != SourceRTC {
				t.Fatalf("source before samples = %s, want rtc-unverified", k.Source())
			}
			for range 3 {
				if err := k.Add(sample(fake.Now(), fake.Now().Add(tt.offset), 20*time.Millisecond)); err != nil {
					t.Fatal(err)
				}
			}
			if got := len(set.sets) == 1; got != tt.wantSet {
				t.Errorf("set = %v, want %v", set.sets, tt.wantSet)
			}
			st := k.State()
			if st.Source != tt.wantSource {
				t.Errorf("source = %s, want %s", st.Source, tt.wantSource)
			}
			if tt.ntp && abs(st.Offset-tt.offset) > time.Millisecond {
				t.Errorf("measured offset = %v, want %v", st.Offset, tt.offset)
			}
			if tt.wantSet && st.LastStep != tt.offset {
				t.Errorf("last step = %v, want %v", st.LastStep, tt.offset)
			}
		})
	}
}

func TestKeeperRefusesSamples(t *testing.T) {
	fake := NewFake(trueTime)
	set := &recorder{fake: fake}
	k := NewKeeper(KeeperOptions{Clock: fake, Setter: set, Floor: Floor{Build: build, LastGood: trueTime.Add(-time.Hour)}})
	bad := []struct {
		s    Sample
		want error
	}{
		{sample(fake.Now(), time.Unix(0, 0), 10*time.Millisecond), ErrBelowFloor},
		{sample(fake.Now(), trueTime.Add(-time.Hour-FloorSlack-time.Second), 10*time.Millisecond), ErrBelowFloor},
		{sample(fake.Now(), build.Add(21*365*24*time.Hour), 10*time.Millisecond), ErrAboveCeiling},
		{Sample{Cloud: trueTime, Sent: trueTime, Received: trueTime.Add(-time.Second)}, ErrSample},
		{Sample{Cloud: trueTime, Sent: trueTime, Received: trueTime.Add(MaxRTT + time.Second)}, ErrSample},
	}
	for i, b := range bad {
		if err := k.Add(b.s); !errors.Is(err, b.want) {
			t.Errorf("sample %d: err = %v, want %v", i, err, b.want)
		}
	}
	st := k.State()
	if st.Refused != len(bad) || st.LastRefusal == "" || len(set.sets) != 0 || st.Source != SourceRTC {
		t.Errorf("after refusals: %+v, sets %v", st, set.sets)
	}
}

func TestKeeperSetterFails(t *testing.T) {
	fake := NewFake(time.Unix(0, 0))
	k := NewKeeper(KeeperOptions{Clock: fake, Setter: &recorder{fake: fake, err: errors.New("EPERM")}, Floor: Floor{Build: build}})
	var err error
	for range 3 {
		err = k.Add(sample(fake.Now(), trueTime, time.Millisecond))
	}
	if err == nil || k.Source() != SourceUnset {
		t.Errorf("err = %v, source %s", err, k.Source())
	}
}

func TestOffsetClock(t *testing.T) {
	base := NewFake(trueTime)
	o := NewOffset(base, -40*365*24*time.Hour)
	if o.Now().Year() > 1990 {
		t.Fatalf("offset clock reads %v", o.Now())
	}
	if err := o.SetTime(trueTime.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	base.Advance(time.Second)
	if want := trueTime.Add(time.Minute + time.Second); !o.Now().Equal(want) {
		t.Errorf("after SetTime: %v, want %v", o.Now(), want)
	}
	tm := o.NewTimer(time.Second)
	base.Advance(time.Second)
	select {
	case <-tm.C():
	default:
		t.Error("timer on the base clock did not fire")
	}
}

// A clock set from a Date header (whole seconds) may be up to half a second
// off; the millisecond acks that follow are not refused for lying a little
// below the trusted clock, and a precise sample wins over a coarse one.
func TestKeeperPrefersPreciseSamples(t *testing.T) {
	fake := NewFake(trueTime.Add(400 * time.Millisecond)) // 400 ms ahead
	set := &recorder{fake: fake}
	k := NewKeeper(KeeperOptions{Clock: fake, Setter: set, Floor: Floor{Build: build, LastGood: fake.Now()}})
	k.mu.Lock()
	k.trusted = true
	k.mu.Unlock()
	coarse := Sample{Cloud: trueTime.Truncate(time.Second).Add(-time.Second), Sent: fake.Now().Add(-2 * time.Millisecond), Received: fake.Now(), Resolution: time.Second, Origin: "https"}
	for _, s := range []Sample{coarse, sample(fake.Now(), trueTime, 30*time.Millisecond), coarse} {
		if err := k.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	st := k.State()
	if d := st.Offset + 400*time.Millisecond; !st.OffsetKnown || abs(d) > time.Millisecond || st.Refused != 0 || len(set.sets) != 0 {
		t.Errorf("state %+v, sets %v; want the precise offset -400ms and no step", st, set.sets)
	}
}

// While held (onboarding), the keeper measures but does not step; port 80's
// hint moves only the TLS time.
func TestKeeperHoldAndTLSHint(t *testing.T) {
	fake := NewFake(time.Unix(1000, 0))
	set := &recorder{fake: fake}
	k := NewKeeper(KeeperOptions{Clock: fake, Setter: set, Floor: Floor{Build: build}})
	k.TLSHint(trueTime, fake.Now())
	if got := k.TLSTime(); !got.Equal(trueTime) {
		t.Errorf("TLS time with port 80's hint = %v, want %v", got, trueTime)
	}
	if k.Source() != SourceUnset {
		t.Errorf("the hint changed the source to %s", k.Source())
	}
	k.Hold(true)
	for range 3 {
		k.Add(sample(fake.Now(), trueTime, 10*time.Millisecond))
	}
	if st := k.State(); len(set.sets) != 0 || !st.OffsetKnown || st.Source != SourceUnset {
		t.Fatalf("held: sets %v, state %+v", set.sets, st)
	}
	k.Hold(false)
	for range 3 {
		k.Add(sample(fake.Now(), trueTime, 10*time.Millisecond))
	}
	if len(set.sets) != 1 || k.Source() != SourceCloud {
		t.Errorf("released: sets %v, source %s", set.sets, k.Source())
	}
}
