package kubetest

import (
	"net"
	"net/netip"
	"testing"
)

// PodNetwork is the range fake pods get addresses from. It is not loopback
// because EndpointSlice validation rejects 127.0.0.0/8.
var PodNetwork = netip.MustParsePrefix("10.244.0.0/16")

// PodNetworkSetup is the shell prefix that makes PodNetwork local and
// reachable, in a private network namespace that needs no root.
const PodNetworkSetup = "unshare -rn sh -c 'ip link set lo up && ip route add local 10.244.0.0/16 dev lo && go test ./...'"

// RequirePodNetwork ends the test unless this process can listen on pod IPs,
// i.e. runs in a network namespace where 10.244.0.0/16 is routed to lo. It
// fails with the command to use (skips when KXDS_SKIP_K8S_TESTS=1). Tests that
// only read EndpointSlices do not need it; tests that dial pods do.
func RequirePodNetwork(t testing.TB) {
	t.Helper()
	probe := netip.AddrPortFrom(PodNetwork.Addr().Next(), 0) // 10.244.0.1
	l, err := net.Listen("tcp", probe.String())
	if err != nil {
		skipOrFatal(t, "this test binds pod IPs in %s but cannot listen on %s (%v): run it in a network namespace, e.g. %s",
			PodNetwork, probe, err, PodNetworkSetup)
	}
	l.Close()
}
