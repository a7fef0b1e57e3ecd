package model

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// Endpoint is one backend address of a service.
type Endpoint struct {
	Address netip.Addr
	Port    uint32
	// Locality overrides the service's locality when not zero.
	Locality Locality
	Health   HealthStatus
	// Hostname is informational (pod name); it shows in /debug/config.
	Hostname string
}

// HostPort is the endpoint's dialable address, e.g. "10.0.0.1:50051" or "[::1]:50051".
func (e Endpoint) HostPort() string {
	return net.JoinHostPort(e.Address.String(), strconv.FormatUint(uint64(e.Port), 10))
}

// AddrPort is the address and port as one comparable value, for finding
// duplicates without formatting strings; the port must have passed Validate.
func (e Endpoint) AddrPort() netip.AddrPort { return netip.AddrPortFrom(e.Address, uint16(e.Port)) }

// Validate checks that the endpoint can be put on the wire.
func (e Endpoint) Validate() error {
	if !e.Address.IsValid() {
		return fmt.Errorf("address is not set")
	}
	if e.Address.IsUnspecified() {
		return fmt.Errorf("address %s is unspecified", e.Address)
	}
	if e.Port == 0 || e.Port > 65535 {
		return fmt.Errorf("port %d out of range 1-65535", e.Port)
	}
	return nil
}

// ParseEndpoint reads "host:port" with a literal IPv4 or IPv6 address.
func ParseEndpoint(s string) (Endpoint, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return Endpoint{}, fmt.Errorf("endpoint %q: want IP:port or [IPv6]:port: %w", s, err)
	}
	e := Endpoint{Address: ap.Addr().Unmap(), Port: uint32(ap.Port())}
	return e, e.Validate()
}
