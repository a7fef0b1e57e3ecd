package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// checkKeys rejects keys that do not match a field exactly. encoding/json
// matches keys case-insensitively, so "portname" would otherwise silently
// set portName, and DisallowUnknownFields would not notice.
//
// It runs after the typed decode has succeeded, so every top-level key
// already folds to "services" and holds a list of objects: one decode into
// keys alone suffices, values are skipped unread.
func checkKeys(data []byte) error {
	var doc map[string][]map[string]skipped
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil // the typed decode reports syntax errors with positions
	}
	fileKeys, serviceKeys := knownKeys()
	for _, k := range sortedKeys(doc) {
		if err := unknownKey(k, fileKeys, ""); err != nil {
			return err
		}
	}
	for i, s := range doc["services"] {
		for _, k := range sortedKeys(s) {
			if err := unknownKey(k, serviceKeys, fmt.Sprintf("services[%d]", i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// skipped is a JSON value checkKeys does not need: decoding it keeps nothing.
type skipped struct{}

func (*skipped) UnmarshalJSON([]byte) error { return nil }

// knownKeys are the JSON keys of File and of ServiceConfig.
var knownKeys = sync.OnceValues(func() (file, service []string) {
	return jsonKeys(reflect.TypeOf(File{})), jsonKeys(reflect.TypeOf(ServiceConfig{}))
})

func jsonKeys(t reflect.Type) []string {
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		keys = append(keys, name)
	}
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func unknownKey(k string, known []string, where string) error {
	if slices.Contains(known, k) {
		return nil
	}
	prefix := ""
	if where != "" {
		prefix = where + ": "
	}
	for _, name := range known {
		if strings.EqualFold(name, k) {
			return fmt.Errorf("%sunknown key %q (did you mean %q?)", prefix, k, name)
		}
	}
	return fmt.Errorf("%sunknown key %q", prefix, k)
}
