package main

import (
	"fmt"
	"os"
	"strings"
)

// checkXDSBootstrap fails early when xDS targets are configured without a
// bootstrap. grpc would otherwise only complain on the first request, as a
// 503 that does not say what is missing.
func checkXDSBootstrap(template string, getenv func(string) string) error {
	if !strings.HasPrefix(strings.ToLower(template), "xds:") {
		return nil
	}
	if getenv("GRPC_XDS_BOOTSTRAP_CONFIG") != "" {
		return nil
	}
	path := getenv("GRPC_XDS_BOOTSTRAP")
	if path == "" {
		return fmt.Errorf("--target-template %q needs an xDS bootstrap, but neither GRPC_XDS_BOOTSTRAP nor GRPC_XDS_BOOTSTRAP_CONFIG is set; "+
			"create one with `kxds bootstrap > bootstrap.json` and export GRPC_XDS_BOOTSTRAP=$PWD/bootstrap.json", template)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("GRPC_XDS_BOOTSTRAP names an unreadable bootstrap file: %w", err)
	}
	return nil
}
