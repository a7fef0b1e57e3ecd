package e2e_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kxds/kxds/controlplane/internal/config"
	"github.com/kxds/kxds/controlplane/internal/kxds"
)

// srvServer is a real DNS server on loopback that answers SRV queries with the
// current backends of each name, and A queries for their targets.
type srvServer struct {
	addr string
	mu   sync.Mutex
	srv  map[string][]*backend // by SRV name, rooted
}

func startSRVServer(t *testing.T) *srvServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &srvServer{addr: pc.LocalAddr().String(), srv: map[string][]*backend{}}
	started := make(chan struct{})
	server := &dns.Server{PacketConn: pc, Handler: s, NotifyStartedFunc: func() { close(started) }}
	go server.ActivateAndServe()
	<-started
	t.Cleanup(func() { server.Shutdown() })
	return s
}

func (s *srvServer) set(name string, backends ...*backend) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srv[name] = backends
}

func (s *srvServer) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	q := r.Question[0]
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 1}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch q.Qtype {
	case dns.TypeSRV:
		bs, ok := s.srv[strings.ToLower(q.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
			break
		}
		for _, b := range bs {
			host, port, _ := net.SplitHostPort(b.addr)
			p, _ := strconv.Atoi(port)
			hdr.Rrtype = dns.TypeSRV
			m.Answer = append(m.Answer, &dns.SRV{Hdr: hdr, Priority: 0, Weight: 10, Port: uint16(p), Target: strings.ReplaceAll(host, ".", "-") + ".pod.cluster.local."})
		}
	case dns.TypeA:
		if ip, ok := strings.CutSuffix(q.Name, ".pod.cluster.local."); ok {
			hdr.Rrtype = dns.TypeA
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.ParseIP(strings.ReplaceAll(ip, "-", "."))})
		}
	}
	w.WriteMsg(m)
}

// DNS discovery, the original mechanism for clusters without RBAC: SRV answers
// that change reach gRPC clients.
func TestDNSDiscovery(t *testing.T) {
	a, b, c := startBackend(t, "dns-a"), startBackend(t, "dns-b"), startBackend(t, "dns-c")
	d := startSRVServer(t)
	const name = "_grpc._tcp.be1-srv.default.svc.cluster.local."
	d.set(name, a, b)
	be1 := service("be1-srv")
	be1.Port, be1.Endpoints = 0, nil
	cp := startControlPlaneWith(t, func(o *kxds.Options) {
		o.Discovery, o.DNSServer, o.DNSInterval = config.ModeDNS, d.addr, 100*time.Millisecond
	}, be1)
	client := dial(t, cp.xdsClient("dns"), "be1-srv")
	waitFor := func(want ...string) {
		t.Helper()
		eventually(t, 10*time.Second, func() error {
			counts := spread(t, client, 20)
			if len(counts) != len(want) {
				return fmt.Errorf("replies from %v, want %v", counts, want)
			}
			for _, h := range want {
				if counts[h] == 0 {
					return fmt.Errorf("replies from %v, want %v", counts, want)
				}
			}
			return nil
		})
	}
	waitFor("dns-a", "dns-b")
	d.set(name, b, c)
	waitFor("dns-b", "dns-c")
}
