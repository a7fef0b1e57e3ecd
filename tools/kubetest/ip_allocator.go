package kubetest

import (
	"fmt"
	"net/netip"
	"sync"
)

// ipAllocator hands out addresses of a prefix, lowest free first, and takes
// them back, so pod IPs stay small and predictable across scale-ups and -downs.
type ipAllocator struct {
	prefix netip.Prefix

	mu    sync.Mutex
	owner map[netip.Addr]string // address -> pod UID
	byPod map[string]netip.Addr
}

func newIPAllocator(prefix netip.Prefix) *ipAllocator {
	return &ipAllocator{prefix: prefix.Masked(), owner: map[netip.Addr]string{}, byPod: map[string]netip.Addr{}}
}

// allocate returns the pod's address, assigning one the first time. It skips
// the network address and, for IPv4, the broadcast address.
func (a *ipAllocator) allocate(pod string) (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ip, ok := a.byPod[pod]; ok {
		return ip, nil
	}
	for ip := a.prefix.Addr().Next(); a.prefix.Contains(ip); ip = ip.Next() {
		if ip.Is4() && !a.prefix.Contains(ip.Next()) && a.prefix.Bits() < 31 {
			break // broadcast
		}
		if _, used := a.owner[ip]; !used {
			a.owner[ip] = pod
			a.byPod[pod] = ip
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("pod CIDR %s is exhausted (%d pods)", a.prefix, len(a.byPod))
}

// release frees the pod's address, if it had one.
func (a *ipAllocator) release(pod string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ip, ok := a.byPod[pod]; ok {
		delete(a.byPod, pod)
		delete(a.owner, ip)
	}
}
