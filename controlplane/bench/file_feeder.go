package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
)

// fileFeeder keeps the whole model in a static svc_config.json and saves it
// again, atomically (write, then rename), for every change: what an operator
// or a ConfigMap update does.
type fileFeeder struct {
	dir, path   string
	k           int
	gens        []int
	sanityAddrs []string
}

func newFileFeeder(cfg Config, sanity []string) (*fileFeeder, error) {
	dir, err := os.MkdirTemp("", "kxds-bench-static-")
	if err != nil {
		return nil, err
	}
	f := &fileFeeder{dir: dir, path: filepath.Join(dir, "svc_config.json"), k: cfg.Endpoints,
		gens: make([]int, cfg.Services), sanityAddrs: sanity}
	if err := f.write(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return f, nil
}

// fileService is one entry of svc_config.json (see internal/config).
type fileService struct {
	ServiceName string   `json:"serviceName"`
	Namespace   string   `json:"namespace"`
	Zone        string   `json:"zone,omitempty"`
	Region      string   `json:"region,omitempty"`
	Port        uint32   `json:"port,omitempty"`
	Endpoints   []string `json:"endpoints"`
	HealthCheck bool     `json:"healthCheck"`
}

func (f *fileFeeder) write() error {
	services := make([]fileService, 0, len(f.gens)+1)
	for i, gen := range f.gens {
		svc := benchService(i, gen, f.k)
		fs := fileService{ServiceName: svc.Key.Name, Namespace: svc.Key.Namespace, Zone: svc.Locality.Zone,
			Region: svc.Locality.Region, Port: svc.Port, Endpoints: make([]string, len(svc.Endpoints))}
		for j, e := range svc.Endpoints {
			fs.Endpoints[j] = e.HostPort()
		}
		services = append(services, fs)
	}
	if len(f.sanityAddrs) > 0 {
		services = append(services, fileService{ServiceName: sanityTarget, Namespace: benchNamespace, Endpoints: f.sanityAddrs})
	}
	data, err := json.Marshal(map[string]any{"services": services})
	if err != nil {
		return err
	}
	tmp := f.path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, f.path)
}

func (f *fileFeeder) childArgs() string          { return "-source " + SourceStatic + " -source-path " + f.path }
func (f *fileFeeder) load(srv *serverProc) error { return srv.load(len(f.gens), nil) }
func (f *fileFeeder) sanity() bool               { return true }
func (f *fileFeeder) close()                     { os.RemoveAll(f.dir) }

func (f *fileFeeder) change(_ *serverProc, i, gen int) error {
	f.gens[i] = gen
	return f.write()
}
