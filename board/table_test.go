package board

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var wantModels = []string{"BN5000", "BN5500", "BN6000", "BN6500", "BN6000N", "BN6500N",
	"CB5000", "CB5500", "CB6000", "CB6500", "DR2000", "DR2500", "JR2000", "JR2500", "rpi-devkit", "sim"}

func TestTableHasEveryModel(t *testing.T) {
	got := Names()
	if strings.Join(got, ",") != strings.Join(wantModels, ",") {
		t.Fatalf("models = %v\nwant %v", got, wantModels)
	}
	for _, m := range Models() {
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
		if !m.Has(InputPIN) {
			t.Errorf("%s: no PIN input", m.Name)
		}
		if m.Network[0].Kind != NetLAN {
			t.Errorf("%s: first interface %v is not LAN", m.Name, m.Network[0])
		}
		for _, in := range m.Inputs {
			if in.Kind == InputFace && in.Driven {
				t.Errorf("%s: %s marked driven", m.Name, in.Kind)
			}
		}
		if m.Has(InputFingerprint) != (m.Fingerprint != nil) {
			t.Errorf("%s: fingerprint input %v, module %+v", m.Name, m.Has(InputFingerprint), m.Fingerprint)
		}
	}
	// The fingerprint models: the BN, BN-N and JR series, the dev kit's
	// optional add-on, the sim.
	for _, n := range []string{"BN5000", "BN5500", "BN6000", "BN6500", "BN6000N", "BN6500N", "JR2000", "JR2500", "rpi-devkit", "sim"} {
		if m, err := Lookup(n); err != nil || m.Fingerprint == nil {
			t.Errorf("%s: no fingerprint module (%v)", n, err)
		}
	}
}

func TestFingerprintValidation(t *testing.T) {
	bn, _ := Lookup("BN6000")
	for _, tt := range []struct {
		name string
		edit func(m *Model)
		want string
	}{
		{"no port", func(m *Model) { m.Fingerprint.Port = "" }, "fingerprint.port: serial port missing"},
		{"odd baud", func(m *Model) { m.Fingerprint.Baud = 56000 }, "fingerprint.baud: 56000"},
		{"unknown driver", func(m *Model) { m.Fingerprint.Driver = "zk" }, `fingerprint.driver: unknown driver "zk"`},
		{"sim with hardware", func(m *Model) { m.Fingerprint = &FingerprintSpec{Driver: "sim"} }, "fingerprint.driver: driver sim with display driver hd44780"},
		{"driven input without a module", func(m *Model) { m.Fingerprint = nil }, "fingerprint: missing"},
		{"a module without the input", func(m *Model) { m.Inputs = m.Inputs[:2] }, "no driven fingerprint input"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := bn
			fp := *bn.Fingerprint
			m.Fingerprint = &fp
			m.Inputs = append([]InputSpec(nil), bn.Inputs...)
			tt.edit(&m)
			if err := m.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	m, err := Lookup("bn5000")
	if err != nil || m.Name != "BN5000" || m.Display.Cols != 16 || m.Display.Rows != 2 {
		t.Fatalf("Lookup(bn5000) = %v, %v", m, err)
	}
	_, err = Lookup("nosuch")
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("Lookup(nosuch) err = %v", err)
	}
	for _, n := range wantModels {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list %s", err, n)
		}
	}
}

func TestLookupExtraReplacesBuiltIn(t *testing.T) {
	sim, _ := Lookup("sim")
	sim.Display.Cols, sim.Display.Rows = 16, 2
	m, err := Lookup("SIM", sim)
	if err != nil || m.Display.Cols != 16 {
		t.Fatalf("extra model not preferred: %v, %v", m, err)
	}
}

func TestLoadFileErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"syntax", "{\n\"models\": [\n{,}]}", "line 3"},
		{"unknown field", `{"models":[{"name":"X","colour":"red"}]}`, "colour"},
		{"empty", `{"models":[]}`, "no models"},
		{"trailing", `{"models":[]} {}`, "after the JSON"},
		{"no name", `{"models":[{}]}`, "name: missing"},
		{"bad display driver", model(`"display":{"driver":"crt","cols":16,"rows":2,"bus":"1"}`), "display.driver"},
		{"bad geometry", model(`"display":{"driver":"hd44780","cols":200,"rows":2,"bus":"1"}`), "geometry 200x2"},
		{"no bus", model(`"display":{"driver":"hd44780","cols":16,"rows":2}`), "display.bus"},
		{"bad layout key", model(`"keypad":{"driver":"matrix","rows":["GPIO1"],"cols":["GPIO2"],"layout":["x"]}`), "keypad.layout[0]"},
		{"layout size", model(`"keypad":{"driver":"matrix","rows":["GPIO1"],"cols":["GPIO2"],"layout":["1","2"]}`), "2 keys for a 1x1"},
		{"wrong type", model(`"display":{"driver":"hd44780","cols":"sixteen","rows":2,"bus":"1"}`), "cols"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "boards.json")
			os.WriteFile(p, []byte(tc.body), 0o600)
			_, err := LoadFile(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadFile error %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// model returns a board file with one valid model, one field replaced.
func model(field string) string {
	base := map[string]string{
		"display":   `"display":{"driver":"hd44780","cols":16,"rows":2,"bus":"1","addr":39}`,
		"keypad":    `"keypad":{"driver":"evdev","device":"/dev/input/event0"}`,
		"indicator": `"indicator":{"driver":"gpio","green":"GPIO22","red":"GPIO23","buzzer":"GPIO18"}`,
		"inputs":    `"inputs":[{"kind":"pin","driven":true}]`,
		"network":   `"network":[{"name":"eth0","kind":"lan"}]`,
	}
	key, _, _ := strings.Cut(strings.Trim(field, `"`), `"`)
	base[key] = field
	parts := []string{`"name":"X1"`}
	for _, k := range []string{"display", "keypad", "indicator", "inputs", "network"} {
		parts = append(parts, base[k])
	}
	return `{"models":[{` + strings.Join(parts, ",") + `}]}`
}

func TestLoadFileValid(t *testing.T) {
	p := filepath.Join(t.TempDir(), "boards.json")
	os.WriteFile(p, []byte(model(`"display":{"driver":"hd44780","cols":20,"rows":4,"bus":"1","addr":39}`)), 0o600)
	ms, err := LoadFile(p)
	if err != nil || len(ms) != 1 || ms[0].Display.Rows != 4 {
		t.Fatalf("LoadFile = %v, %v", ms, err)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add(modelsJSON)
	f.Add([]byte(model(`"display":{"driver":"hd44780","cols":20,"rows":4,"bus":"1","addr":39}`)))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := parse(b, "fuzz")
		if err != nil {
			return
		}
		for _, m := range ms {
			if err := m.Validate(); err != nil {
				t.Fatalf("parse returned an invalid model: %v", err)
			}
		}
	})
}

func TestOpenSim(t *testing.T) {
	m, _ := Lookup("sim")
	s, err := Open(m, Opts{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Halt()
	if s.Sim == nil || s.Keypad == nil || s.Display == nil || len(s.Badges) != 1 || s.Indicator == nil {
		t.Fatalf("sim set incomplete: %+v", s)
	}
	if c, r := s.Display.Size(); c != 20 || r != 4 {
		t.Fatalf("sim display %dx%d", c, r)
	}
}
