package kubetest

import (
	"net/netip"
	"testing"
)

func TestIPAllocatorReusesLowestFreeAddress(t *testing.T) {
	a := newIPAllocator(netip.MustParsePrefix("10.244.3.0/30")) // .1 and .2 usable
	first, err := a.allocate("a")
	if err != nil || first != netip.MustParseAddr("10.244.3.1") {
		t.Fatalf("allocate(a) = %v, %v; want 10.244.3.1", first, err)
	}
	if again, _ := a.allocate("a"); again != first {
		t.Fatalf("allocate(a) again = %v; want the same %v", again, first)
	}
	if second, err := a.allocate("b"); err != nil || second != netip.MustParseAddr("10.244.3.2") {
		t.Fatalf("allocate(b) = %v, %v; want 10.244.3.2", second, err)
	}
	if ip, err := a.allocate("c"); err == nil {
		t.Fatalf("allocate(c) = %v; want an error, the /30 has no address left (broadcast excluded)", ip)
	}
	a.release("a")
	if ip, err := a.allocate("c"); err != nil || ip != first {
		t.Fatalf("allocate(c) after release(a) = %v, %v; want %v", ip, err, first)
	}
}

func TestIPAllocatorIPv6(t *testing.T) {
	a := newIPAllocator(netip.MustParsePrefix("fd00:10:244::/120"))
	ip, err := a.allocate("a")
	if err != nil || ip != netip.MustParseAddr("fd00:10:244::1") {
		t.Fatalf("allocate = %v, %v; want fd00:10:244::1", ip, err)
	}
}
