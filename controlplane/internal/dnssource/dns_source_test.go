package dnssource

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kxds/kxds/controlplane/internal/model"
)

// fakeDNS is a DNS server on 127.0.0.1 whose answers tests change between
// rounds. Names it does not know are NXDOMAIN.
type fakeDNS struct {
	addr string

	mu      sync.Mutex
	srv     map[string][]dns.SRV // by rooted, lower-case name
	rcode   map[string]int       // forced response code, by name
	addrs   map[string][]netip.Addr
	queries map[string]int // SRV queries seen, by name
}

func startDNS(t *testing.T) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on 127.0.0.1/udp: %v", err)
	}
	f := &fakeDNS{
		addr:    pc.LocalAddr().String(),
		srv:     map[string][]dns.SRV{},
		rcode:   map[string]int{},
		addrs:   map[string][]netip.Addr{},
		queries: map[string]int{},
	}
	started := make(chan struct{})
	server := &dns.Server{PacketConn: pc, Handler: f, NotifyStartedFunc: func() { close(started) }}
	go server.ActivateAndServe()
	<-started
	t.Cleanup(func() { server.Shutdown() })
	return f
}

func (f *fakeDNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	q := r.Question[0]
	name := strings.ToLower(q.Name)

	f.mu.Lock()
	defer f.mu.Unlock()
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 5}
	switch rcode, forced := f.rcode[name]; {
	case forced:
		m.Rcode = rcode
	case q.Qtype == dns.TypeSRV && f.srv[name] != nil:
		f.queries[name]++
		for _, s := range f.srv[name] {
			s.Hdr = hdr
			s.Hdr.Rrtype = dns.TypeSRV
			m.Answer = append(m.Answer, &s)
		}
	case (q.Qtype == dns.TypeA || q.Qtype == dns.TypeAAAA) && f.addrs[name] != nil:
		for _, a := range f.addrs[name] {
			switch {
			case a.Is4() && q.Qtype == dns.TypeA:
				hdr.Rrtype = dns.TypeA
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
			case a.Is6() && q.Qtype == dns.TypeAAAA:
				hdr.Rrtype = dns.TypeAAAA
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
			}
		}
	default:
		if q.Qtype == dns.TypeSRV {
			f.queries[name]++
		}
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
}

// setSRV replaces name's SRV records; targets map "host:port" to addresses.
func (f *fakeDNS) setSRV(name string, targets map[string][]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.rcode, name)
	f.srv[name] = []dns.SRV{}
	for hostPort, addrs := range targets {
		host, port, _ := net.SplitHostPort(hostPort)
		p, _ := netip.ParseAddrPort("0.0.0.0:" + port)
		f.srv[name] = append(f.srv[name], dns.SRV{Priority: 0, Weight: 10, Port: p.Port(), Target: host})
		f.addrs[host] = nil
		for _, a := range addrs {
			f.addrs[host] = append(f.addrs[host], netip.MustParseAddr(a))
		}
	}
}

func (f *fakeDNS) setRcode(name string, rcode int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rcode[name] = rcode
}

func (f *fakeDNS) deleteSRV(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.srv, name)
	delete(f.rcode, name)
}

func (f *fakeDNS) srvQueries(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries[name]
}

// recordingSink keeps the latest Set of each service.
type recordingSink struct {
	mu     sync.Mutex
	latest map[model.ServiceKey]model.Service
	sets   int
	synced int
}

func (s *recordingSink) Set(svc model.Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latest == nil {
		s.latest = map[model.ServiceKey]model.Service{}
	}
	s.latest[svc.Key] = svc
	s.sets++
}

func (s *recordingSink) Delete(model.ServiceKey) { panic("dnssource never deletes") }

func (s *recordingSink) Synced() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.synced++
}

func (s *recordingSink) get(k model.ServiceKey) (model.Service, bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.latest[k]
	return svc, ok, s.synced
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// endpointsAre reports whether svc has exactly these "ip:port" endpoints.
func endpointsAre(svc model.Service, want ...string) bool {
	if len(svc.Endpoints) != len(want) {
		return false
	}
	for i, e := range svc.Endpoints {
		if e.HostPort() != want[i] {
			return false
		}
	}
	return true
}

const (
	echoSRV  = "_grpc._tcp.echo.ns.svc.cluster.local."
	otherSRV = "_grpc._tcp.other.ns.svc.cluster.local."
)

var (
	echoKey  = model.ServiceKey{Namespace: "ns", Name: "echo"}
	otherKey = model.ServiceKey{Namespace: "ns", Name: "other"}
)

func runSource(t *testing.T, f *fakeDNS, services ...WantedService) *recordingSink {
	t.Helper()
	src, err := New(services, Options{
		Server:   f.addr,
		Interval: 20 * time.Millisecond,
		Logger:   slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	sink := &recordingSink{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- src.Run(ctx, sink) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil after cancel", err)
		}
	})
	return sink
}

func wanted(name string) WantedService {
	return WantedService{Namespace: "ns", Name: name, PortName: "grpc", GRPCServiceName: "kxds.Echo",
		Locality: model.Locality{Region: "r1", Zone: "z1"}, HealthCheck: true}
}

func TestEndpointsAppearChangeAndDisappear(t *testing.T) {
	f := startDNS(t)
	f.setSRV(echoSRV, map[string][]string{
		"pod-a.echo.ns.svc.cluster.local.:50051": {"127.0.0.11"},
		"pod-b.echo.ns.svc.cluster.local.:50051": {"127.0.0.12", "::1"},
	})
	s := runSource(t, f, wanted("echo"))

	waitFor(t, "first round", func() bool { _, ok, synced := s.get(echoKey); return ok && synced == 1 })
	svc, _, _ := s.get(echoKey)
	if !endpointsAre(svc, "127.0.0.11:50051", "127.0.0.12:50051", "[::1]:50051") {
		t.Fatalf("endpoints = %v", svc.Endpoints)
	}
	want := model.Service{Key: echoKey, Port: 50051, GRPCServiceName: "kxds.Echo", Locality: model.Locality{Region: "r1", Zone: "z1"},
		HealthCheck: true, Endpoints: svc.Endpoints}
	if !svc.Equal(want) {
		t.Errorf("service = %+v, want %+v", svc, want)
	}
	if svc.Endpoints[0].Hostname != "pod-a.echo.ns.svc.cluster.local" {
		t.Errorf("hostname = %q, want the SRV target without the root dot", svc.Endpoints[0].Hostname)
	}
	if err := svc.Validate(); err != nil {
		t.Error(err)
	}

	// A pod replaced, another on a different port: ports disagree → Port 0.
	f.setSRV(echoSRV, map[string][]string{
		"pod-a.echo.ns.svc.cluster.local.:50051": {"127.0.0.11"},
		"pod-c.echo.ns.svc.cluster.local.:50052": {"127.0.0.13"},
	})
	waitFor(t, "changed endpoints", func() bool {
		svc, _, _ := s.get(echoKey)
		return endpointsAre(svc, "127.0.0.11:50051", "127.0.0.13:50052") && svc.Port == 0
	})

	f.setSRV(echoSRV, map[string][]string{})
	waitFor(t, "no endpoints", func() bool { svc, _, _ := s.get(echoKey); return len(svc.Endpoints) == 0 })
}

func TestNXDOMAINMeansZeroEndpointsAndKeepsThePort(t *testing.T) {
	f := startDNS(t)
	f.setSRV(echoSRV, map[string][]string{"pod-a.echo.ns.svc.cluster.local.:50051": {"127.0.0.11"}})
	s := runSource(t, f, wanted("echo"))
	waitFor(t, "endpoint", func() bool { svc, _, _ := s.get(echoKey); return len(svc.Endpoints) == 1 })

	f.deleteSRV(echoSRV)
	waitFor(t, "zero endpoints after NXDOMAIN", func() bool { svc, _, _ := s.get(echoKey); return len(svc.Endpoints) == 0 })
	if svc, _, _ := s.get(echoKey); svc.Port != 50051 {
		t.Errorf("Port = %d after NXDOMAIN, want the last known 50051", svc.Port)
	}
}

func TestFailingLookupKeepsItsEndpointsAndSparesOthers(t *testing.T) {
	f := startDNS(t)
	f.setSRV(echoSRV, map[string][]string{"pod-a.echo.ns.svc.cluster.local.:50051": {"127.0.0.11"}})
	f.setSRV(otherSRV, map[string][]string{"pod-x.other.ns.svc.cluster.local.:8080": {"127.0.0.21"}})
	s := runSource(t, f, wanted("echo"), wanted("other"))
	waitFor(t, "both services", func() bool {
		e, _, _ := s.get(echoKey)
		o, _, _ := s.get(otherKey)
		return len(e.Endpoints) == 1 && len(o.Endpoints) == 1
	})

	f.setRcode(echoSRV, dns.RcodeServerFailure)
	f.setSRV(otherSRV, map[string][]string{
		"pod-x.other.ns.svc.cluster.local.:8080": {"127.0.0.21"},
		"pod-y.other.ns.svc.cluster.local.:8080": {"127.0.0.22"},
	})
	waitFor(t, "other updated while echo fails", func() bool {
		o, _, _ := s.get(otherKey)
		return endpointsAre(o, "127.0.0.21:8080", "127.0.0.22:8080")
	})
	// Several more rounds of SERVFAIL must not touch echo.
	before := f.srvQueries(otherSRV)
	waitFor(t, "more rounds", func() bool { return f.srvQueries(otherSRV) >= before+3 })
	if e, _, _ := s.get(echoKey); !endpointsAre(e, "127.0.0.11:50051") {
		t.Errorf("echo endpoints after SERVFAIL = %v, want the last known", e.Endpoints)
	}

	// A target whose address lookup fails fails the whole service, too.
	f.setSRV(echoSRV, map[string][]string{"pod-b.echo.ns.svc.cluster.local.:50051": {"127.0.0.12"}})
	f.setRcode("pod-b.echo.ns.svc.cluster.local.", dns.RcodeServerFailure)
	before = f.srvQueries(echoSRV)
	waitFor(t, "more rounds", func() bool { return f.srvQueries(echoSRV) >= before+3 })
	if e, _, _ := s.get(echoKey); !endpointsAre(e, "127.0.0.11:50051") {
		t.Errorf("echo endpoints after failed target = %v, want the last known", e.Endpoints)
	}
}

func TestFirstRoundFailureStillSetsTheServiceAndSyncs(t *testing.T) {
	f := startDNS(t)
	f.setRcode(echoSRV, dns.RcodeServerFailure)
	f.setSRV(otherSRV, map[string][]string{"pod-x.other.ns.svc.cluster.local.:8080": {"127.0.0.21"}})
	s := runSource(t, f, wanted("echo"), wanted("other"))
	waitFor(t, "synced", func() bool { _, _, synced := s.get(echoKey); return synced == 1 })
	if e, ok, _ := s.get(echoKey); !ok || len(e.Endpoints) != 0 {
		t.Errorf("echo = %+v (set: %v), want it set with no endpoints", e, ok)
	}
	if o, _, _ := s.get(otherKey); len(o.Endpoints) != 1 {
		t.Errorf("other = %+v, want its endpoint", o)
	}

	f.setSRV(echoSRV, map[string][]string{"pod-a.echo.ns.svc.cluster.local.:50051": {"127.0.0.11"}})
	waitFor(t, "echo recovered", func() bool { e, _, _ := s.get(echoKey); return len(e.Endpoints) == 1 })
}

func TestUnchangedServicesAreNotSetAgain(t *testing.T) {
	f := startDNS(t)
	f.setSRV(echoSRV, map[string][]string{"pod-a.echo.ns.svc.cluster.local.:50051": {"127.0.0.11"}})
	s := runSource(t, f, wanted("echo"))
	waitFor(t, "first round", func() bool { _, ok, _ := s.get(echoKey); return ok })
	before := f.srvQueries(echoSRV)
	waitFor(t, "more rounds", func() bool { return f.srvQueries(echoSRV) >= before+3 })
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sets != 1 {
		t.Errorf("Set called %d times for an unchanged service, want 1", s.sets)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		services []WantedService
		opts     Options
		want     string
	}{
		"no port name": {[]WantedService{{Namespace: "ns", Name: "a"}}, Options{}, "services[0] (ns/a): portName is required"},
		"dotted name":  {[]WantedService{{Namespace: "ns", Name: "a.b", PortName: "grpc"}}, Options{}, `name "a.b"`},
		"duplicate":    {[]WantedService{wanted("a"), wanted("a")}, Options{}, "services[1]: ns/a is already services[0]"},
		"bad server":   {[]WantedService{wanted("a")}, Options{Server: "127.0.0.1"}, `server "127.0.0.1"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(tc.services, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestSRVName(t *testing.T) {
	w := WantedService{Namespace: "ns", Name: "echo", PortName: "grpc"}
	if got, want := w.srvName("example.org"), "_grpc._tcp.echo.ns.svc.example.org."; got != want {
		t.Errorf("srvName = %q, want %q", got, want)
	}
}
