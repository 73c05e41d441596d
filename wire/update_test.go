package wire

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDecodeUpdateReport(t *testing.T) {
	ok := `{"version":"1.0","arch":"linux/amd64","model":"sim","slot":"a","release":"r1","state":"downloading","percent":40}`
	if r, err := DecodeUpdateReport([]byte(ok)); err != nil || r.Percent != 40 {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{
		`{"arch":"linux/amd64","model":"sim"}`,
		`{"version":"1","arch":"linux/amd64","model":"sim","slot":"c"}`,
		`{"version":"1","arch":"linux/amd64","model":"sim","state":"dancing","release":"r"}`,
		`{"version":"1","arch":"linux/amd64","model":"sim","state":"trial"}`,
		`{"version":"1","arch":"linux/amd64","model":"sim","state":"downloading","release":"r","percent":101}`,
		`[]`,
	} {
		if _, err := DecodeUpdateReport([]byte(bad)); !errors.Is(err, ErrPayload) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestDecodeUpdateReply(t *testing.T) {
	if r, err := DecodeUpdateReply([]byte(`{"stored":true,"offer":{"release":"r1","version":"2.0","size":10}}`)); err != nil || r.Offer.Size != 10 {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{`{"offer":{"release":"a/b","version":"2","size":1}}`, `{"offer":{"release":"r","version":"2","size":0}}`} {
		if _, err := DecodeUpdateReply([]byte(bad)); !errors.Is(err, ErrPayload) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func FuzzDecodeUpdateReport(f *testing.F) {
	f.Add([]byte(`{"version":"1.0","arch":"linux/amd64","model":"sim","release":"r1","state":"committed"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeUpdateReport(b)
		if err != nil {
			return
		}
		again, _ := json.Marshal(r)
		if _, err := DecodeUpdateReport(again); err != nil {
			t.Fatalf("re-encoded report refused: %v", err)
		}
	})
}

func FuzzDecodeUpdateReply(f *testing.F) {
	f.Add([]byte(`{"stored":true,"offer":{"release":"r1","version":"2.0","size":10}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeUpdateReply(b)
		if err == nil && r.Offer != nil && r.Offer.Size <= 0 {
			t.Fatal("offer of no size accepted")
		}
	})
}
