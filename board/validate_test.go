package board

import (
	"strings"
	"testing"
)

// hwModel is a valid hardware model with parts replaced by JSON fragments.
func hwModel(t *testing.T, parts map[string]string) Model {
	t.Helper()
	base := map[string]string{
		"display":   `{"driver":"hd44780","cols":20,"rows":4,"bus":"1","addr":39}`,
		"keypad":    `{"driver":"matrix","rows":["GPIO5","GPIO6"],"cols":["GPIO12","GPIO16"],"layout":["1","2","3","enter"]}`,
		"badges":    `[{"driver":"wiegand","d0":"GPIO17","d1":"GPIO27"}]`,
		"indicator": `{"driver":"gpio","green":"GPIO22","red":"GPIO23","buzzer":"GPIO18"}`,
	}
	for k, v := range parts {
		base[k] = v
	}
	js := `{"models":[{"name":"X1","display":` + base["display"] + `,"keypad":` + base["keypad"] + `,"badges":` + base["badges"] +
		`,"indicator":` + base["indicator"] + `,"inputs":[{"kind":"pin","driven":true}],"network":[{"name":"eth0","kind":"lan"}]}]}`
	ms, err := parseNoValidate([]byte(js))
	if err != nil {
		t.Fatalf("bad test JSON: %v\n%s", err, js)
	}
	return ms[0]
}

func TestValidateHardwareModels(t *testing.T) {
	if err := hwModel(t, nil).Validate(); err != nil {
		t.Fatalf("base model: %v", err)
	}
	for _, tc := range []struct {
		name  string
		parts map[string]string
		want  string
	}{
		{"pin twice in keypad", map[string]string{"keypad": `{"driver":"matrix","rows":["GPIO5"],"cols":["GPIO5"],"layout":["1"]}`},
			"X1: keypad.cols[0]: pin GPIO5 is also used by keypad.rows[0]"},
		{"LED on a keypad pin", map[string]string{"indicator": `{"driver":"gpio","green":"GPIO6","red":"GPIO23"}`},
			"indicator.green: pin GPIO6 is also used by keypad.rows[1]"},
		{"wiegand on an LED pin", map[string]string{"badges": `[{"driver":"wiegand","d0":"GPIO17","d1":"GPIO23"}]`},
			"indicator.red: pin GPIO23 is also used by badges[0].d1"},
		{"pin with a space", map[string]string{"indicator": `{"driver":"gpio","green":"GPIO 22","red":"GPIO23"}`}, `indicator.green: pin "GPIO 22" has spaces`},
		{"hd44780 geometry", map[string]string{"display": `{"driver":"hd44780","cols":17,"rows":2,"bus":"1","addr":39}`}, "display: geometry 17x2 is not an HD44780 panel"},
		{"hd44780 no address", map[string]string{"display": `{"driver":"hd44780","cols":16,"rows":2,"bus":"1"}`}, "display.addr: I2C address 0"},
		{"ssd1306 geometry", map[string]string{"display": `{"driver":"ssd1306","cols":20,"rows":4,"bus":"1","addr":60}`}, "an SSD1306 shows 21x8"},
		{"ssd1306 address", map[string]string{"display": `{"driver":"ssd1306","cols":21,"rows":8,"bus":"1","addr":39}`}, "display.addr: I2C address 39 (0x27): an SSD1306"},
		{"display bus missing", map[string]string{"display": `{"driver":"ssd1306","cols":21,"rows":8,"addr":60}`}, "display.bus: I2C bus missing"},
		{"wiegand d1 missing", map[string]string{"badges": `[{"driver":"wiegand","d0":"GPIO17"}]`}, "badges[0].d1: pin missing"},
		{"field of another driver", map[string]string{"badges": `[{"driver":"wiegand","d0":"GPIO17","d1":"GPIO27","port":"/dev/ttyS0"}]`},
			`badges[0].port: "/dev/ttyS0" is not used by driver wiegand`},
		{"em4100 port", map[string]string{"badges": `[{"driver":"em4100"}]`}, "badges[0].port: serial port missing"},
		{"em4100 baud", map[string]string{"badges": `[{"driver":"em4100","port":"/dev/ttyS1","baud":1234}]`}, "badges[0].baud: 1234"},
		{"mfrc522 reset", map[string]string{"badges": `[{"driver":"mfrc522","bus":"/dev/spidev0.0"}]`}, "badges[0].reset: pin missing"},
		{"mfrc522 bus", map[string]string{"badges": `[{"driver":"mfrc522","reset":"GPIO25"}]`}, "badges[0].bus: SPI port missing"},
		{"evdev device", map[string]string{"badges": `[{"driver":"evdev"}]`}, "badges[0].device: input device missing"},
		{"unknown badge driver", map[string]string{"badges": `[{"driver":"barcode"}]`}, `badges[0].driver: unknown driver "barcode"`},
		{"evdev keypad with rows", map[string]string{"keypad": `{"driver":"evdev","device":"/dev/input/event0","rows":["GPIO5"]}`}, "rows, cols, layout and debounce_ms are for driver matrix, not evdev"},
		{"evdev keypad device", map[string]string{"keypad": `{"driver":"evdev"}`}, "keypad.device: input device missing"},
		{"too many rows", map[string]string{"keypad": `{"driver":"matrix","rows":["A","B","C","D","E","F","G","H","I"],"cols":["J"],"layout":["1","2","3","4","5","6","7","8","9"]}`}, "at most 8"},
		{"debounce", map[string]string{"keypad": `{"driver":"matrix","rows":["GPIO5"],"cols":["GPIO6"],"layout":["1"],"debounce_ms":500}`}, "keypad.debounce_ms: 500"},
		{"sim keypad on hardware", map[string]string{"keypad": `{"driver":"sim"}`}, "keypad.driver: driver sim with display driver hd44780: sim drivers cannot be mixed"},
		{"LED missing", map[string]string{"indicator": `{"driver":"gpio","green":"GPIO22"}`}, "indicator.red: pin missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := hwModel(t, tc.parts).Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v\nwant it to say %q", err, tc.want)
			}
		})
	}
}

func TestBuzzerOptional(t *testing.T) {
	m := hwModel(t, map[string]string{"indicator": `{"driver":"gpio","green":"GPIO22","red":"GPIO23"}`})
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestBoardFileErrorNamesModelFieldAndPin(t *testing.T) {
	_, err := parse([]byte(`{"models":[{"name":"Lobby","display":{"driver":"hd44780","cols":20,"rows":4,"bus":"1","addr":39},
		"keypad":{"driver":"evdev","device":"/dev/input/event0"},
		"badges":[{"driver":"wiegand","d0":"GPIO17","d1":"GPIO17"}],
		"indicator":{"driver":"gpio","green":"GPIO22","red":"GPIO23"},
		"inputs":[{"kind":"pin","driven":true}],"network":[{"name":"eth0","kind":"lan"}]}]}`), "lobby.json")
	want := "board file lobby.json: models[0]: Lobby: badges[0].d1: pin GPIO17 is also used by badges[0].d0"
	if err == nil || err.Error() != want {
		t.Fatalf("error\n %v\nwant\n %s", err, want)
	}
}
