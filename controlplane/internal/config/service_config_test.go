package config

import (
	"reflect"
	"testing"
)

// Equal must look at every field: a field it skipped would make a reload
// ignore edits of that field. Each field is changed in turn via reflection,
// so a field added later is covered without editing this test.
func TestServiceConfigEqualSeesEveryField(t *testing.T) {
	no := false
	base := ServiceConfig{ServiceName: "a", Namespace: "default", Protocol: "tcp", Endpoints: []string{"127.0.0.1:1"}}
	if !base.Equal(base) {
		t.Fatal("an entry differs from itself")
	}
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		changed := base
		changed.Endpoints = append([]string(nil), base.Endpoints...)
		f := reflect.ValueOf(&changed).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Uint32:
			f.SetUint(f.Uint() + 1)
		case reflect.Slice:
			f.Set(reflect.Append(f, reflect.ValueOf("127.0.0.2:2")))
		case reflect.Pointer:
			f.Set(reflect.ValueOf(&no))
		default:
			t.Fatalf("field %s: kind %s not covered by this test", typ.Field(i).Name, f.Kind())
		}
		if base.Equal(changed) {
			t.Errorf("Equal ignores %s", typ.Field(i).Name)
		}
	}
	yes := true
	explicit := base
	explicit.HealthCheck = &yes
	if !base.Equal(explicit) {
		t.Error(`"healthCheck": true differs from the default (on)`)
	}
}
