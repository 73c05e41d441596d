package board

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
)

//go:embed models.json
var modelsJSON []byte

// table is the embedded model table, parsed once.
var table = sync.OnceValues(func() ([]Model, error) { return parse(modelsJSON, "models.json") })

// Names lists the built-in model names in table order.
func Names() []string {
	ms, err := table()
	if err != nil {
		panic(err) // the embedded table is checked by tests
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return names
}

// Models returns the built-in models.
func Models() []Model {
	ms, err := table()
	if err != nil {
		panic(err)
	}
	return slices.Clone(ms)
}

// ErrUnknown is returned for a board name that is not in the table.
var ErrUnknown = errors.New("unknown board")

// Lookup finds a model by name, case-insensitively. Models from extra (an
// integrator's board file) replace built-in ones of the same name. An
// unknown name is an error that lists the valid names.
func Lookup(name string, extra ...Model) (Model, error) {
	all := append(slices.Clone(extra), Models()...)
	for _, m := range all {
		if strings.EqualFold(m.Name, name) {
			return m, nil
		}
	}
	var names []string
	for _, m := range all {
		if !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	return Model{}, fmt.Errorf("%w %q; valid boards: %s", ErrUnknown, name, strings.Join(names, ", "))
}

// LoadFile reads an integrator's board file: a JSON object {"models": [...]}
// using the same fields as the built-in table. Every model is checked; the
// error names the model, the field and the pin or bus.
func LoadFile(path string) ([]Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("board file: %w", err)
	}
	return parse(b, path)
}

func parse(b []byte, src string) ([]Model, error) {
	models, err := parseNoValidate(b)
	if err != nil {
		return nil, fmt.Errorf("board file %s: %w", src, err)
	}
	seen := map[string]bool{}
	for i, m := range models {
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("board file %s: models[%d]: %w", src, i, err)
		}
		k := strings.ToLower(m.Name)
		if seen[k] {
			return nil, fmt.Errorf("board file %s: models[%d]: name %q appears twice", src, i, m.Name)
		}
		seen[k] = true
	}
	return models, nil
}

// parseNoValidate decodes a board file strictly (unknown fields are
// errors) without checking the models.
func parseNoValidate(b []byte) ([]Model, error) {
	var f struct {
		Models []Model `json:"models"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, errors.New(jsonErr(b, err))
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	if len(f.Models) == 0 {
		return nil, errors.New("no models")
	}
	return f.Models, nil
}

// jsonErr adds a line number to JSON syntax and type errors.
func jsonErr(b []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return err.Error()
	}
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	return fmt.Sprintf("line %d: %v", line, err)
}
