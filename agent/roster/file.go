package roster

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"timeclock/wire"
)

// The roster file (--roster-file) is JSON:
//
//	{
//	  "version": 3,
//	  "employees": [
//	    {"id": "E100", "name": "Ada Lovelace", "badges": ["10001"], "pin": "1234",
//	     "departments": ["Assembly", "Shipping"], "active": true}
//	  ]
//	}
//
// A badge is a card number alone ("10001"), a facility code and a card
// number ("12:34567") or an EM4100 whole ID ("em:62E3086CED"); see
// wire.ParseBadge. "active" defaults to true. A PIN may instead be given hashed, as
// "pin_hash" (hex HMAC-SHA256) with the file's "pin_salt" (hex, 16+ bytes).
// A file with any error is rejected whole; the error names the line and the
// field, never a PIN.

// MaxFileSize bounds a roster file.
const MaxFileSize = 16 << 20

type fileRoster struct {
	Version   uint64            `json:"version"`
	PINSalt   string            `json:"pin_salt"`
	Employees []json.RawMessage `json:"employees"`
}

type fileEmployee struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Badges      []string `json:"badges"`
	PIN         string   `json:"pin"`
	PINHash     string   `json:"pin_hash"`
	Departments []string `json:"departments"`
	Active      *bool    `json:"active"`
	Supervisor  bool     `json:"supervisor"`
}

// FileError is a roster file error with its line.
type FileError struct {
	Line  int    // 1-based; 0 when unknown
	Field string // e.g. "employees[2].badges[0]"
	Msg   string
}

func (e *FileError) Error() string {
	s := "roster file"
	if e.Line > 0 {
		s += fmt.Sprintf(" line %d", e.Line)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Msg
}

// ParseFile reads a roster file. A file without pin_salt gets a fresh
// random salt for hashing its PINs.
func ParseFile(in io.Reader) (*Roster, error) {
	data, err := io.ReadAll(io.LimitReader(in, MaxFileSize+1))
	if err != nil {
		return nil, &FileError{Msg: err.Error()}
	}
	if len(data) > MaxFileSize {
		return nil, &FileError{Msg: fmt.Sprintf("larger than %d bytes", MaxFileSize)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var fr fileRoster
	if err := dec.Decode(&fr); err != nil {
		return nil, jsonError(data, err, dec.InputOffset(), "")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &FileError{Line: lineAt(data, int(dec.InputOffset())), Msg: "unexpected data after the roster object"}
	}
	if fr.Employees == nil {
		return nil, &FileError{Line: 1, Field: "employees", Msg: "missing"}
	}
	salt := make([]byte, wire.PINSaltLen)
	rand.Read(salt)
	if fr.PINSalt != "" {
		if salt, err = hex.DecodeString(fr.PINSalt); err != nil || len(salt) < wire.PINSaltLen {
			return nil, &FileError{Line: fieldLine(data, 0, len(data), "pin_salt"), Field: "pin_salt", Msg: fmt.Sprintf("must be at least %d bytes of hex", wire.PINSaltLen)}
		}
	}
	emps := make([]Employee, len(fr.Employees))
	starts := elementStarts(data, fr.Employees)
	for i, raw := range fr.Employees {
		prefix := fmt.Sprintf("employees[%d]", i)
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		var fe fileEmployee
		if err := d.Decode(&fe); err != nil {
			e := jsonError(raw, err, d.InputOffset(), prefix)
			if fe, ok := e.(*FileError); ok && fe.Line > 0 {
				fe.Line += lineAt(data, starts[i]) - 1
			}
			return nil, e
		}
		emp := Employee{ID: fe.ID, Name: fe.Name, Badges: fe.Badges, Departments: fe.Departments, Active: fe.Active == nil || *fe.Active, Supervisor: fe.Supervisor}
		fieldErr := func(field, msg string) error {
			return &FileError{Line: fieldLine(data, starts[i], starts[i]+len(raw), field), Field: prefix + "." + field, Msg: msg}
		}
		switch {
		case fe.PIN != "" && fe.PINHash != "":
			return nil, fieldErr("pin", "give pin or pin_hash, not both")
		case fe.PIN != "":
			if !ValidPIN(fe.PIN) {
				return nil, fieldErr("pin", fmt.Sprintf("must be %d to %d digits", wire.MinPINLen, wire.MaxPINLen))
			}
			emp.PINHash = HashPIN(salt, fe.PIN)
		case fe.PINHash != "":
			if fr.PINSalt == "" {
				return nil, fieldErr("pin_hash", "needs the file's pin_salt")
			}
			h, err := hex.DecodeString(fe.PINHash)
			if err != nil || len(h) != 32 {
				return nil, fieldErr("pin_hash", "must be 64 hex digits")
			}
			emp.PINHash = h
		}
		emps[i] = emp
	}
	r, err := New(fr.Version, salt, emps)
	var fe *FieldError
	if errors.As(err, &fe) {
		i := fe.Index
		field, _, _ := cutIndex(fe.Field)
		return nil, &FileError{Line: fieldLine(data, starts[i], starts[i]+len(fr.Employees[i]), field), Field: fmt.Sprintf("employees[%d].%s", i, fe.Field), Msg: fe.Msg}
	}
	if err != nil {
		return nil, &FileError{Msg: err.Error()}
	}
	return r, nil
}

// cutIndex splits "badges[1]" into "badges".
func cutIndex(f string) (string, string, bool) {
	for i := range len(f) {
		if f[i] == '[' {
			return f[:i], f[i:], true
		}
	}
	return f, "", false
}

// jsonError turns a decoding error into a FileError with the line.
func jsonError(data []byte, err error, off int64, prefix string) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	field := prefix
	join := func(f string) string {
		if prefix == "" {
			return f
		}
		if f == "" {
			return prefix
		}
		return prefix + "." + f
	}
	msg := err.Error()
	switch {
	case errors.As(err, &se):
		off, msg = se.Offset, "not valid JSON: "+se.Error()
	case errors.As(err, &te):
		off = te.Offset
		field = join(te.Field)
		msg = fmt.Sprintf("must be %s, not %s", typeName(te.Type.Kind().String()), te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		msg = "not valid JSON: unexpected end of file"
		off = int64(len(data))
	default:
		// json: unknown field "x"
		var name string
		if _, e := fmt.Sscanf(msg, "json: unknown field %q", &name); e == nil {
			field = join(name)
			msg = "unknown field"
			if l := fieldLine(data, 0, len(data), name); l > 0 {
				return &FileError{Line: l, Field: field, Msg: msg}
			}
		}
	}
	return &FileError{Line: lineAt(data, int(off)), Field: field, Msg: msg}
}

func typeName(kind string) string {
	switch kind {
	case "uint64", "int", "int64", "uint":
		return "a whole number"
	case "slice":
		return "a list"
	case "ptr", "bool":
		return "true or false"
	}
	return "a " + kind
}

// lineAt is the 1-based line of byte offset off.
func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}

// elementStarts finds where each raw array element begins in data (they
// are sub-slices of data's copy, so search in order).
func elementStarts(data []byte, elems []json.RawMessage) []int {
	starts := make([]int, len(elems))
	pos := bytes.Index(data, []byte(`"employees"`))
	if pos < 0 {
		pos = 0
	}
	for i, e := range elems {
		if k := bytes.Index(data[pos:], e); k >= 0 {
			pos += k
			starts[i] = pos
			pos += len(e)
		} else {
			starts[i] = pos
		}
	}
	return starts
}

// fieldLine is the line of the first `"field"` key between from and to, or
// of from when the key is absent.
func fieldLine(data []byte, from, to int, field string) int {
	to = min(to, len(data))
	if k := bytes.Index(data[from:to], []byte(`"`+field+`"`)); k >= 0 {
		return lineAt(data, from+k)
	}
	return lineAt(data, from)
}
