package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
)

// fileFeeder keeps the whole model in a static svc_config.json and saves it
// again, atomically (write, then rename), for every change: what an operator
// or a ConfigMap update does. Each service's JSON is kept, so a change
// re-renders one entry: the parent must keep up with the churn rate, or the
// benchmark would measure itself.
type fileFeeder struct {
	dir, path   string
	k           int
	entries     [][]byte // per service, its JSON object
	sanityEntry []byte   // the sanity service's, or nil
	buf         bytes.Buffer
}

func newFileFeeder(cfg Config, sanity []string) (*fileFeeder, error) {
	dir, err := os.MkdirTemp("", "kxds-bench-static-")
	if err != nil {
		return nil, err
	}
	f := &fileFeeder{dir: dir, path: filepath.Join(dir, "svc_config.json"), k: cfg.Endpoints,
		entries: make([][]byte, cfg.Services)}
	for i := range f.entries {
		if f.entries[i], err = f.render(i, 0); err != nil {
			break
		}
	}
	if err == nil && len(sanity) > 0 {
		f.sanityEntry, err = json.Marshal(fileService{ServiceName: sanityTarget, Namespace: benchNamespace, Endpoints: sanity})
	}
	if err == nil {
		err = f.write()
	}
	if err != nil {
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

func (f *fileFeeder) render(i, gen int) ([]byte, error) {
	svc := benchService(i, gen, f.k)
	fs := fileService{ServiceName: svc.Key.Name, Namespace: svc.Key.Namespace, Zone: svc.Locality.Zone,
		Region: svc.Locality.Region, Port: svc.Port, Endpoints: make([]string, len(svc.Endpoints))}
	for j, e := range svc.Endpoints {
		fs.Endpoints[j] = e.HostPort()
	}
	return json.Marshal(fs)
}

func (f *fileFeeder) write() error {
	f.buf.Reset()
	f.buf.WriteString(`{"services":[`)
	for i, e := range f.entries {
		if i > 0 {
			f.buf.WriteByte(',')
		}
		f.buf.Write(e)
	}
	if f.sanityEntry != nil {
		f.buf.WriteByte(',')
		f.buf.Write(f.sanityEntry)
	}
	f.buf.WriteString("]}")
	tmp := f.path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, f.buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, f.path)
}

func (f *fileFeeder) childArgs() string          { return "-source " + SourceStatic + " -config " + f.path }
func (f *fileFeeder) load(srv *serverProc) error { return srv.load(len(f.entries), nil) }
func (f *fileFeeder) sanity() bool               { return true }
func (f *fileFeeder) close()                     { os.RemoveAll(f.dir) }

func (f *fileFeeder) change(_ *serverProc, i, gen int) error {
	e, err := f.render(i, gen)
	if err != nil {
		return err
	}
	f.entries[i] = e
	return f.write()
}
