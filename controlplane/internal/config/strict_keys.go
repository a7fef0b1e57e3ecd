package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// checkKeys rejects keys that do not match a field exactly. encoding/json
// matches keys case-insensitively, so "portname" would otherwise silently
// set portName, and DisallowUnknownFields would not notice.
func checkKeys(data []byte) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil // the typed decode reports syntax errors with positions
	}
	if err := unknownKey(doc, reflect.TypeOf(File{}), ""); err != nil {
		return err
	}
	var services []map[string]json.RawMessage
	if json.Unmarshal(doc["services"], &services) != nil {
		return nil
	}
	for i, s := range services {
		if err := unknownKey(s, reflect.TypeOf(ServiceConfig{}), fmt.Sprintf("services[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

func unknownKey(obj map[string]json.RawMessage, t reflect.Type, where string) error {
	known := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		known[name] = true
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if known[k] {
			continue
		}
		prefix := ""
		if where != "" {
			prefix = where + ": "
		}
		for name := range known {
			if strings.EqualFold(name, k) {
				return fmt.Errorf("%sunknown key %q (did you mean %q?)", prefix, k, name)
			}
		}
		return fmt.Errorf("%sunknown key %q", prefix, k)
	}
	return nil
}
