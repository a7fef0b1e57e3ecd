package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// File is a parsed and validated svc_config.json.
type File struct {
	Services []ServiceConfig `json:"services"`
}

// Load reads and validates the file at path. Errors start with the path.
func Load(path string, mode Mode) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, mode)
}

// Parse validates data; name prefixes every error (usually the file's path).
// Unknown keys are errors, so a typo never silently drops a setting.
func Parse(name string, data []byte, mode Mode) (*File, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, describeJSONError(data, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: unexpected data after the top-level object", name)
	}
	if err := checkKeys(data); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if f.Services == nil {
		return nil, fmt.Errorf("%s: missing \"services\" list", name)
	}
	seen := make(map[model.ServiceKey]int, len(f.Services))
	for i := range f.Services {
		s := &f.Services[i]
		s.applyDefaults()
		if err := s.validate(mode); err != nil {
			return nil, fmt.Errorf("%s: services[%d].%w", name, i, err)
		}
		if j, dup := seen[s.Key()]; dup {
			return nil, fmt.Errorf("%s: services[%d]: duplicate service %s (also services[%d])", name, i, s.Key(), j)
		}
		seen[s.Key()] = i
		if mode == ModeStatic {
			if _, err := s.StaticService(); err != nil {
				return nil, fmt.Errorf("%s: services[%d].%w", name, i, err)
			}
		}
	}
	return &f, nil
}

// describeJSONError adds the line and column to syntax and type errors.
func describeJSONError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return fmt.Errorf("line %d, column %d: %w", line, col, err)
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		return fmt.Errorf("line %d, column %d: %s: want %s, got JSON %s", line, col, typ.Field, typ.Type, typ.Value)
	}
	return err
}

func position(data []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for _, b := range data[:min(int(offset), len(data))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
