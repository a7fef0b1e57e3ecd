package app

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// serviceHost is a DNS-1123 subdomain: lower-case labels separated by dots,
// as in be1-srv or be1-srv.default.
var serviceHost = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$`)

// validateServiceName accepts what may follow xds:/// for a Kubernetes
// service: name, name.namespace and so on, with an optional :port. Checking
// here keeps arbitrary URL text out of gRPC targets and logs.
func validateServiceName(name string) error {
	host, port, hasPort := strings.Cut(name, ":")
	if len(host) > 253 || !serviceHost.MatchString(host) {
		return fmt.Errorf("invalid service name %q: want a lower-case DNS name such as be1-srv or be1-srv.default, optionally with :port", name)
	}
	if hasPort {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port != strconv.Itoa(n) {
			return fmt.Errorf("invalid port %q in service name %q: want 1..65535", port, name)
		}
	}
	return nil
}
