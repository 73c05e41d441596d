package roster

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"timeclock/agent/store"
)

func parseGood(t *testing.T) *Roster {
	t.Helper()
	f, err := os.Open("testdata/good.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ParseFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLookups(t *testing.T) {
	r := parseGood(t)
	if r.Version() != 4 || r.Len() != 4 {
		t.Fatalf("version %d len %d", r.Version(), r.Len())
	}
	for _, tc := range []struct{ badge, want string }{
		{"10001", "E100"}, {"10002", "E101"}, {"00010012", "E101"}, {"10003", "E103"}, {"99", ""}, {"x1", ""},
	} {
		e, ok := r.ByBadge(tc.badge)
		if e.ID != tc.want || ok != (tc.want != "") {
			t.Errorf("ByBadge(%s) = %q %v, want %q", tc.badge, e.ID, ok, tc.want)
		}
	}
	for _, tc := range []struct{ pin, want string }{
		{"1234", "E100"}, {"7777", "E102"}, {"4321", "E103"}, {"0000", ""}, {"123", ""}, {"12345", ""},
	} {
		e, ok := r.ByPIN(tc.pin)
		if e.ID != tc.want || ok != (tc.want != "") {
			t.Errorf("ByPIN(%s) = %q %v, want %q", tc.pin, e.ID, ok, tc.want)
		}
	}
	if e, _ := r.ByID("E103"); e.Active || e.Name != "Old Timer" {
		t.Errorf("E103 = %+v, want inactive", e)
	}
	if e, _ := r.ByID("E100"); !e.Active || len(e.Departments) != 3 {
		t.Errorf("E100 = %+v", e)
	}
}

func TestBadFilesRejectedWhole(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       string // in the error
	}{
		{"syntax", "{\n  \"version\": 1,\n  \"employees\": [\n    {\"id\": \"E1\",}\n  ]\n}", "line 4"},
		{"truncated", "{\n\"employees\": [\n", "end of file"},
		{"no employees", `{"version": 1}`, "employees: missing"},
		{"unknown top field", "{\n\"version\": 1,\n\"staff\": []}", "line 3: staff: unknown field"},
		{"unknown employee field", "{\"employees\": [\n{\"id\": \"E1\", \"name\": \"A\", \"badges\": [\"1\"]},\n{\"id\": \"E2\", \"name\": \"B\",\n \"colour\": \"red\"}]}", "line 4: employees[1].colour: unknown field"},
		{"wrong type", "{\"employees\": [\n{\"id\": \"E1\", \"name\": \"A\",\n\"badges\": 5}]}", "line 3: employees[0].badges: must be a list"},
		{"negative version", `{"version": -1, "employees": []}`, "version: must be a whole number"},
		{"empty id", "{\"employees\": [\n{\"id\": \"\", \"name\": \"A\", \"badges\": [\"1\"]}]}", "line 2: employees[0].id"},
		{"duplicate id", "{\"employees\": [\n{\"id\": \"E1\", \"name\": \"A\", \"badges\": [\"1\"]},\n{\"id\": \"E1\", \"name\": \"B\", \"badges\": [\"2\"]}]}", "line 3: employees[1].id: \"E1\" is also employees[0]"},
		{"duplicate badge", "{\"employees\": [\n{\"id\": \"E1\", \"name\": \"A\", \"badges\": [\"1\"]},\n{\"id\": \"E2\", \"name\": \"B\",\n \"badges\": [\"001\"]}]}", "line 4: employees[1].badges[0]: badge 1 of E2 already belongs to E1"},
		{"facility badge against a card number alone", "{\"employees\": [\n{\"id\": \"E1\", \"name\": \"A\", \"badges\": [\"34567\"]},\n{\"id\": \"E2\", \"name\": \"B\",\n \"badges\": [\"10\", \"12:034567\"]}]}",
			"line 4: employees[1].badges[1]: badge 12:34567 of E2 collides with badge 34567 of E1: a card number without a facility code matches E2's card too; write E1's badge with its facility code"},
		{"bad facility code", "{\"employees\": [\n{\"id\": \"E1\", \"name\": \"A\",\n\"badges\": [\"x:12\"]}]}", "line 3: employees[0].badges[0]: facility code must be digits"},
		{"letters in badge", "{\"employees\": [\n{\"id\": \"E1\", \"name\": \"A\",\n\"badges\": [\"12a\"]}]}", "line 3: employees[0].badges[0]: must be digits only"},
		{"short pin", "{\"employees\": [\n{\"id\": \"E1\", \"name\": \"A\",\n\"pin\": \"98\"}]}", "line 3: employees[0].pin: must be 4 to 8 digits"},
		{"same pin", "{\"employees\": [\n{\"id\": \"E1\", \"name\": \"A\", \"pin\": \"9876\"},\n{\"id\": \"E2\", \"name\": \"B\", \"pin\": \"9876\"}]}", "line 3: employees[1].pin: same PIN as E1"},
		{"no badge no pin", "{\"employees\": [\n{\"id\": \"E1\", \"name\": \"A\"}]}", "an employee needs a badge or a PIN"},
		{"blank department", "{\"employees\": [\n{\"id\": \"E1\", \"name\": \"A\", \"badges\": [\"1\"],\n\"departments\": [\"X\", \" \"]}]}", "line 3: employees[0].departments[1]"},
		{"pin hash without salt", "{\"employees\": [\n{\"id\": \"E1\", \"name\": \"A\", \"pin_hash\": \"00\"}]}", "needs the file's pin_salt"},
		{"trailing data", `{"employees": []} []`, "unexpected data"},
		{"name with newline", "{\"employees\": [{\"id\": \"E1\", \"name\": \"A\\nB\", \"badges\": [\"1\"]}]}", "employees[0].name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile(strings.NewReader(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			for _, pin := range []string{"98", "9876"} {
				if strings.Contains(tc.file, pin) && strings.Contains(err.Error(), pin) {
					t.Errorf("error %q shows the PIN", err)
				}
			}
		})
	}
}

func TestPINHashFileForm(t *testing.T) {
	salt := strings.Repeat("ab", 16)
	h := HashPIN([]byte(strings.Repeat("\xab", 16)), "2468")
	file := `{"pin_salt": "` + salt + `", "employees": [{"id": "E1", "name": "A", "pin_hash": "` + hexs(h) + `"}]}`
	r, err := ParseFile(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := r.ByPIN("2468"); !ok || e.ID != "E1" {
		t.Fatalf("hashed PIN not found: %v %v", e, ok)
	}
}

func hexs(b []byte) string {
	const d = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(d[c>>4])
		s.WriteByte(d[c&15])
	}
	return s.String()
}

func TestKeeperImportPersistsAndRefusesOlder(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(st)
	if err != nil {
		t.Fatal(err)
	}
	if b.Current().Len() != 0 {
		t.Fatal("new keeper not empty")
	}
	res, err := b.ImportFile("testdata/good.json")
	if err != nil || res.Unchanged || res.Employees != 4 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if res, err := b.ImportFile("testdata/good.json"); err != nil || !res.Unchanged {
		t.Fatalf("re-import of the same file: %+v %v", res, err)
	}
	older := filepath.Join(dir, "older.json")
	os.WriteFile(older, []byte(`{"version": 2, "employees": []}`), 0o600)
	if _, err := b.ImportFile(older); !errors.Is(err, ErrOlder) {
		t.Fatalf("older roster: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\"version\": 9, \"employees\": [\n{\"id\": \"E1\"}]}"), 0o600)
	if _, err := b.ImportFile(bad); err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad roster: %v", err)
	}
	if b.Current().Len() != 4 {
		t.Fatal("a rejected file changed the roster")
	}
	st.Close()

	st2, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	b2, err := Open(st2)
	if err != nil {
		t.Fatal(err)
	}
	r := b2.Current()
	if r.Version() != 4 || r.Len() != 4 {
		t.Fatalf("after reopen: version %d, %d employees", r.Version(), r.Len())
	}
	if e, ok := r.ByPIN("1234"); !ok || e.ID != "E100" {
		t.Fatal("PIN lookup lost across reopen (salt not kept?)")
	}
	if e, ok := r.ByBadge("10012"); !ok || e.ID != "E101" {
		t.Fatal("badge lookup lost across reopen")
	}
	// A whole new roster replaces the old one atomically.
	nr, err := New(5, r.Salt(), []Employee{{ID: "N1", Name: "New", Badges: []string{"10001"}, Active: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b2.Replace(nr, nil); err != nil {
		t.Fatal(err)
	}
	if e, _ := b2.Current().ByBadge("10001"); e.ID != "N1" || b2.Current().Len() != 1 {
		t.Fatalf("after Replace: %+v len %d", e, b2.Current().Len())
	}
}

func FuzzParseFile(f *testing.F) {
	good, _ := os.ReadFile("testdata/good.json")
	f.Add(good)
	f.Add([]byte(`{"employees": []}`))
	f.Add([]byte(`{"version": 1, "pin_salt": "00", "employees": [{"id": "E", "name": "n", "pin_hash": "zz"}]}`))
	f.Add([]byte(`{"employees": [{"id": "E", "name": "n", "badges": ["1", "01"]}]}`))
	f.Add([]byte("{\n\"employees\": [\n{]"))
	f.Add([]byte(`{"employees": [{"id": "E", "name": "n", "badges": ["12:34567", "em:62e3086ced", "34567"]}, {"id": "F", "name": "m", "badges": ["13:34567"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseFile(strings.NewReader(string(b)))
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a FileError", err, err)
			}
			if fe.Line < 0 || fe.Line > strings.Count(string(b), "\n")+1 {
				t.Fatalf("error line %d outside the file", fe.Line)
			}
			return
		}
		// What parses is a consistent roster: every badge finds its owner.
		for _, e := range r.Employees() {
			for _, bd := range e.Badges {
				if got, ok := r.ByBadge(bd); !ok || got.ID != e.ID {
					t.Fatalf("badge %s of %s finds %v", bd, e.ID, got.ID)
				}
			}
		}
	})
}
