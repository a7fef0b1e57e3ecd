package render

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
)

const fakeDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// templates returns the manifest templates: ../manifests, or $MANIFESTS (space-separated
// runfiles paths) under Bazel.
func templates(t *testing.T) []string {
	t.Helper()
	if m := os.Getenv("MANIFESTS"); m != "" {
		var files []string
		for _, f := range strings.Fields(m) {
			files = append(files, runfile(f))
		}
		return files
	}
	files, err := filepath.Glob("../manifests/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in ../manifests: %v", err)
	}
	return files
}

// runfile maps a $(rootpath) to the file (rules_go runs tests in the package directory).
func runfile(p string) string {
	if d := os.Getenv("TEST_SRCDIR"); d != "" {
		return filepath.Join(d, os.Getenv("TEST_WORKSPACE"), p)
	}
	return p
}

func fakeValues(ns string) Values {
	return Values{
		Namespace: ns,
		Registry:  "registry.example.com/kxds/",
		Digests:   map[string]string{"echo": fakeDigest, "frontend": fakeDigest, "kxds": fakeDigest},
	}
}

func TestRenderTemplates(t *testing.T) {
	for _, ns := range []string{"default", "kxds-demo"} {
		t.Run(ns, func(t *testing.T) {
			b, err := Render(templates(t), fakeValues(ns))
			if err != nil {
				t.Fatal(err)
			}
			checkManifests(t, b, ns, "registry.example.com/kxds/")
		})
	}
}

// TestRendered checks the manifests rendered by Bazel (//k8s:manifests) with real digests.
func TestRendered(t *testing.T) {
	f := os.Getenv("RENDERED")
	if f == "" {
		t.Skip("$RENDERED not set")
	}
	b, err := os.ReadFile(runfile(f))
	if err != nil {
		t.Fatal(err)
	}
	checkManifests(t, b, os.Getenv("RENDERED_NAMESPACE"), os.Getenv("RENDERED_REGISTRY"))
}

func TestErrors(t *testing.T) {
	v := fakeValues("default")
	if _, err := RenderOne("t", `{{ image "nope" }}`, v); err == nil || !strings.Contains(err.Error(), `no image "nope"`) {
		t.Errorf("unknown image: %v", err)
	}
	v.Digests["bad"] = "latest"
	if _, err := RenderOne("t", `{{ image "bad" }}`, v); err == nil {
		t.Error("bad digest accepted")
	}
	if _, err := RenderOne("t", `{{ .Nope }}`, v); err == nil {
		t.Error("unknown field accepted")
	}
	if _, err := Render(nil, Values{Registry: "r"}); err == nil {
		t.Error("empty namespace accepted")
	}
}

func checkManifests(t *testing.T, stream []byte, ns, registry string) {
	t.Helper()
	objs, err := Objects(stream)
	if err != nil {
		t.Fatal(err)
	}
	codecs := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict)
	var names []string
	deployments := map[string]*appsv1.Deployment{}
	for _, u := range objs {
		names = append(names, u.GetKind()+"/"+u.GetName())
		raw, err := u.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		// Strict: unknown or misspelt fields fail.
		obj, _, err := codecs.UniversalDeserializer().Decode(raw, nil, nil)
		if err != nil {
			t.Errorf("%s/%s: %v", u.GetKind(), u.GetName(), err)
			continue
		}
		clusterScoped := u.GetKind() == "ClusterRole" || u.GetKind() == "ClusterRoleBinding"
		if !clusterScoped && u.GetNamespace() != ns {
			t.Errorf("%s/%s: namespace %q, want %q", u.GetKind(), u.GetName(), u.GetNamespace(), ns)
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			deployments[o.Name] = o
			checkPod(t, o.Name, &o.Spec.Template.Spec, registry)
		case *rbacv1.ClusterRole:
			checkRole(t, o)
		case *rbacv1.ClusterRoleBinding:
			if len(o.Subjects) != 1 || o.Subjects[0].Namespace != ns || o.Subjects[0].Name != "kxds" {
				t.Errorf("ClusterRoleBinding subjects %+v", o.Subjects)
			}
		case *corev1.ConfigMap:
			checkConfigMap(t, o, ns)
		case *corev1.Service:
			checkService(t, o)
		}
	}
	sort.Strings(names)
	want := []string{
		"ClusterRole/kxds-discovery", "ClusterRoleBinding/kxds-discovery-" + ns,
		"ConfigMap/fe-xds-bootstrap", "ConfigMap/xds-svc-config",
		"Deployment/be1-deployment", "Deployment/be2-deployment", "Deployment/fe-deployment", "Deployment/xds-deployment",
		"Service/be1-srv", "Service/be2-srv", "Service/fe-srv", "Service/xds-srv",
		"ServiceAccount/kxds",
	}
	if !slices.Equal(names, want) {
		t.Errorf("objects\n got %v\nwant %v", names, want)
	}
	for _, be := range []string{"be1-deployment", "be2-deployment"} {
		d := deployments[be]
		if d == nil {
			continue
		}
		if *d.Spec.Replicas != 2 {
			t.Errorf("%s: %d replicas", be, *d.Spec.Replicas)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if p := c.ReadinessProbe; p == nil || p.GRPC == nil || p.GRPC.Port != 50051 || p.GRPC.Service == nil || *p.GRPC.Service != "echo.EchoServer" {
			t.Errorf("%s: readiness probe %+v", be, c.ReadinessProbe)
		}
		if !slices.Contains(c.Args, "--addr=:50051") || !strings.Contains(c.Image, "/echo@sha256:") {
			t.Errorf("%s: args %v image %s", be, c.Args, c.Image)
		}
	}
	if d := deployments["xds-deployment"]; d != nil {
		c := d.Spec.Template.Spec.Containers[0]
		wantArgs := []string{"--discovery=kubernetes", "--config=/etc/kxds/svc_config.json", "--xds-addr=:18000", "--admin-addr=:18080"}
		if !slices.Equal(c.Args, wantArgs) || !strings.Contains(c.Image, "/kxds@sha256:") {
			t.Errorf("xds: args %v image %s", c.Args, c.Image)
		}
		if d.Spec.Template.Spec.ServiceAccountName != "kxds" {
			t.Errorf("xds: service account %q", d.Spec.Template.Spec.ServiceAccountName)
		}
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" ||
			c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("xds: probes %+v %+v", c.ReadinessProbe, c.LivenessProbe)
		}
	}
	if d := deployments["fe-deployment"]; d != nil {
		c := d.Spec.Template.Spec.Containers[0]
		if len(c.Env) != 1 || c.Env[0].Name != "GRPC_XDS_BOOTSTRAP" || c.Env[0].Value != "/etc/xds/bootstrap.json" {
			t.Errorf("fe: env %+v", c.Env)
		}
		if !strings.Contains(c.Image, "/frontend@sha256:") {
			t.Errorf("fe: image %s", c.Image)
		}
	}
}

func checkPod(t *testing.T, name string, p *corev1.PodSpec, registry string) {
	t.Helper()
	if sc := p.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s: pod securityContext.runAsNonRoot not true", name)
	}
	for _, c := range p.Containers {
		if !strings.HasPrefix(c.Image, strings.TrimSuffix(registry, "/")+"/") || !strings.Contains(c.Image, "@sha256:") {
			t.Errorf("%s/%s: image %q not pinned by digest in %s", name, c.Name, c.Image, registry)
		}
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
			t.Errorf("%s/%s: securityContext %+v", name, c.Name, sc)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[r]; !ok {
				t.Errorf("%s/%s: no %s request", name, c.Name, r)
			}
			if _, ok := c.Resources.Limits[r]; !ok {
				t.Errorf("%s/%s: no %s limit", name, c.Name, r)
			}
		}
		if c.ReadinessProbe == nil || c.LivenessProbe == nil {
			t.Errorf("%s/%s: missing probes", name, c.Name)
		}
	}
}

// checkRole: read-only access to services, configmaps and endpointslices, nothing else.
func checkRole(t *testing.T, r *rbacv1.ClusterRole) {
	t.Helper()
	allowed := map[string]bool{"/services": true, "/configmaps": true, "discovery.k8s.io/endpointslices": true}
	got := map[string]bool{}
	for _, rule := range r.Rules {
		if !slices.Equal(rule.Verbs, []string{"get", "list", "watch"}) || len(rule.ResourceNames) != 0 || len(rule.NonResourceURLs) != 0 {
			t.Errorf("ClusterRole rule %+v: want exactly get, list, watch", rule)
		}
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				k := g + "/" + res
				if !allowed[k] {
					t.Errorf("ClusterRole grants %s", k)
				}
				got[k] = true
			}
		}
	}
	if len(got) != len(allowed) {
		t.Errorf("ClusterRole covers %v, want %v", got, allowed)
	}
}

func checkConfigMap(t *testing.T, cm *corev1.ConfigMap, ns string) {
	t.Helper()
	switch cm.Name {
	case "xds-svc-config":
		var cfg struct {
			Services []map[string]any `json:"services"`
		}
		if err := json.Unmarshal([]byte(cm.Data["svc_config.json"]), &cfg); err != nil {
			t.Fatalf("svc_config.json: %v", err)
		}
		if len(cfg.Services) != 2 {
			t.Fatalf("svc_config.json: %d services", len(cfg.Services))
		}
		for i, be := range []string{"be1-srv", "be2-srv"} {
			s := cfg.Services[i]
			want := map[string]any{"serviceName": be, "namespace": ns, "portName": "grpc", "protocol": "tcp",
				"grpcServiceName": "echo.EchoServer", "zone": "us-central1-a", "region": "us-central1"}
			if b1, b2 := mustJSON(s), mustJSON(want); b1 != b2 {
				t.Errorf("svc_config.json service %d: %s, want %s", i, b1, b2)
			}
		}
	case "fe-xds-bootstrap":
		var bs struct {
			XDSServers []struct {
				ServerURI    string           `json:"server_uri"`
				ChannelCreds []map[string]any `json:"channel_creds"`
			} `json:"xds_servers"`
			Node struct {
				ID string `json:"id"`
			} `json:"node"`
		}
		if err := json.Unmarshal([]byte(cm.Data["bootstrap.json"]), &bs); err != nil {
			t.Fatalf("bootstrap.json: %v", err)
		}
		if len(bs.XDSServers) != 1 || bs.XDSServers[0].ServerURI != "xds-srv."+ns+".svc.cluster.local:18000" ||
			len(bs.XDSServers[0].ChannelCreds) != 1 || bs.XDSServers[0].ChannelCreds[0]["type"] != "insecure" || bs.Node.ID == "" {
			t.Errorf("bootstrap.json: %+v", bs)
		}
	default:
		t.Errorf("unexpected ConfigMap %s", cm.Name)
	}
}

func checkService(t *testing.T, s *corev1.Service) {
	t.Helper()
	type want struct {
		headless bool
		typ      corev1.ServiceType
		port     int32
		portName string
	}
	w, ok := map[string]want{
		"be1-srv": {true, "", 50051, "grpc"},
		"be2-srv": {true, "", 50051, "grpc"},
		"xds-srv": {false, "", 18000, "grpc"},
		"fe-srv":  {false, corev1.ServiceTypeNodePort, 8080, "http"},
	}[s.Name]
	if !ok {
		t.Errorf("unexpected Service %s", s.Name)
		return
	}
	if (s.Spec.ClusterIP == corev1.ClusterIPNone) != w.headless || s.Spec.Type != w.typ ||
		len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Port != w.port || s.Spec.Ports[0].Name != w.portName {
		t.Errorf("Service %s: %+v", s.Name, s.Spec)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
