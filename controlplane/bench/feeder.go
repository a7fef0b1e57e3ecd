package bench

import "fmt"

// feeder delivers the model and its changes to the server under test by one
// discovery path (Config.Source). The parent owns it, so the server process
// pays only for what kxds itself does with a change.
type feeder interface {
	// childArgs are the server's flags that select the source.
	childArgs() string
	// load has the server take services 0..M-1 at generation 0 and the
	// sanity service, and returns once its source has synced.
	load(srv *serverProc) error
	// change makes service i generation gen. It returns once the change has
	// left the parent (written, or accepted by the API server).
	change(srv *serverProc, i, gen int) error
	// sanity says whether the real grpc-go channels can be served: their
	// backends listen on loopback, which an EndpointSlice cannot hold.
	sanity() bool
	close()
}

// newFeeder prepares cfg.Source for one server; sanity are the addresses of
// the real echo backends (none if nil).
func newFeeder(cfg Config, sanity []string) (feeder, error) {
	switch cfg.Source {
	case SourceSink:
		return &sinkFeeder{services: cfg.Services, sanityAddrs: sanity}, nil
	case SourceStatic:
		return newFileFeeder(cfg, sanity)
	case SourceKubernetes:
		return newKubeFeeder(cfg)
	}
	return nil, fmt.Errorf("unknown source %q", cfg.Source)
}

// sinkFeeder has the child call the server's source.Sink directly.
type sinkFeeder struct {
	services    int
	sanityAddrs []string
}

func (f *sinkFeeder) childArgs() string                      { return "-source " + SourceSink }
func (f *sinkFeeder) load(srv *serverProc) error             { return srv.load(f.services, f.sanityAddrs) }
func (f *sinkFeeder) change(srv *serverProc, i, g int) error { return srv.set(i, g) }
func (f *sinkFeeder) sanity() bool                           { return true }
func (f *sinkFeeder) close()                                 {}
