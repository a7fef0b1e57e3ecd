package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckXDSBootstrap(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bootstrap.json")
	if err := os.WriteFile(file, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	for _, tc := range []struct {
		template string
		vars     map[string]string
		wantErr  string
	}{
		{"passthrough:///%s", nil, ""},
		{"dns:///%s", nil, ""},
		{"xds:///%s", map[string]string{"GRPC_XDS_BOOTSTRAP": file}, ""},
		{"xds:///%s", map[string]string{"GRPC_XDS_BOOTSTRAP_CONFIG": "{}"}, ""},
		{"xds:///%s", nil, "kxds bootstrap > bootstrap.json"},
		{"XDS:///%s", nil, "GRPC_XDS_BOOTSTRAP"},
		{"xds:///%s", map[string]string{"GRPC_XDS_BOOTSTRAP": file + ".missing"}, "unreadable bootstrap file"},
	} {
		err := checkXDSBootstrap(tc.template, env(tc.vars))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s with %v: %v", tc.template, tc.vars, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s with %v: got %v, want error mentioning %q", tc.template, tc.vars, err, tc.wantErr)
		}
	}
}
