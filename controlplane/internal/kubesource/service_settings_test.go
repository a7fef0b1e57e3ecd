package kubesource

import (
	"strings"
	"testing"

	"github.com/kxds/kxds/controlplane/internal/model"
)

func TestSettingsFor(t *testing.T) {
	wanted := WantedService{
		Key: model.ServiceKey{Namespace: "ns", Name: "svc"}, PortName: "grpc", GRPCServiceName: "echo.Echo",
		Locality: model.Locality{Region: "r", Zone: "z"}, HealthCheck: true,
	}
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		inConfig    bool
		wantServe   bool
		want        settings
		wantProblem Reason // "" for none
		errContains string
	}{
		{name: "no annotations, not configured"},
		{name: "disabled", annotations: map[string]string{AnnotationEnabled: "false", AnnotationHealthCheck: "bogus"}},
		{
			name:        "opt in with defaults",
			annotations: map[string]string{AnnotationEnabled: "true"},
			wantServe:   true, want: settings{healthCheck: true},
		},
		{
			name: "opt in with every setting",
			annotations: map[string]string{AnnotationEnabled: "true", AnnotationPortName: "grpc",
				AnnotationGRPCServiceName: "echo.Echo", AnnotationHealthCheck: "false"},
			wantServe: true, want: settings{portName: "grpc", grpcServiceName: "echo.Echo"},
		},
		{
			name:        "enabled not a bool",
			annotations: map[string]string{AnnotationEnabled: "yes"},
			wantProblem: ReasonInvalidAnnotation, errContains: `xds.kxds.io/enabled: "yes"`,
		},
		{
			name:        "health-check not a bool",
			annotations: map[string]string{AnnotationEnabled: "true", AnnotationHealthCheck: "True"},
			wantProblem: ReasonInvalidAnnotation, errContains: AnnotationHealthCheck,
		},
		{
			name:        "bad port name",
			annotations: map[string]string{AnnotationEnabled: "true", AnnotationPortName: "Not_A_Port"},
			wantProblem: ReasonInvalidAnnotation, errContains: AnnotationPortName,
		},
		{
			name:        "bad grpc service name",
			annotations: map[string]string{AnnotationEnabled: "true", AnnotationGRPCServiceName: "a b"},
			wantProblem: ReasonInvalidAnnotation, errContains: AnnotationGRPCServiceName,
		},
		{
			name:        "unknown key is reported but served",
			annotations: map[string]string{AnnotationEnabled: "true", AnnotationPrefix + "helth-check": "false"},
			wantServe:   true, want: settings{healthCheck: true},
			wantProblem: ReasonUnknownAnnotation, errContains: "xds.kxds.io/helth-check",
		},
		{
			name: "configured only", inConfig: true, wantServe: true,
			want: settings{portName: "grpc", grpcServiceName: "echo.Echo", locality: wanted.Locality, healthCheck: true},
		},
		{
			name:        "configured and annotated alike",
			annotations: map[string]string{AnnotationEnabled: "true", AnnotationPortName: "grpc"},
			inConfig:    true, wantServe: true,
			want: settings{portName: "grpc", grpcServiceName: "echo.Echo", locality: wanted.Locality, healthCheck: true},
		},
		{
			name:        "configured and annotated differently: config wins",
			annotations: map[string]string{AnnotationEnabled: "true", AnnotationPortName: "other", AnnotationHealthCheck: "false"},
			inConfig:    true, wantServe: true,
			want:        settings{portName: "grpc", grpcServiceName: "echo.Echo", locality: wanted.Locality, healthCheck: true},
			wantProblem: ReasonConfigConflict, errContains: `xds.kxds.io/port-name "other", config portName "grpc"`,
		},
		{
			name:        "configured with an invalid annotation: config wins",
			annotations: map[string]string{AnnotationEnabled: "true", AnnotationHealthCheck: "maybe"},
			inConfig:    true, wantServe: true,
			want:        settings{portName: "grpc", grpcServiceName: "echo.Echo", locality: wanted.Locality, healthCheck: true},
			wantProblem: ReasonConfigConflict, errContains: "maybe",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService("ns", "svc", true, tc.annotations, svcPort("grpc", 50051))
			st, serve, problems := settingsFor(svc, wanted, tc.inConfig)
			if serve != tc.wantServe || (serve && st != tc.want) {
				t.Errorf("settingsFor = %+v, serve %v; want %+v, serve %v", st, serve, tc.want, tc.wantServe)
			}
			switch {
			case tc.wantProblem == "" && len(problems) > 0:
				t.Errorf("problems = %v; want none", problems)
			case tc.wantProblem != "" && (len(problems) != 1 || problems[0].Reason != tc.wantProblem):
				t.Errorf("problems = %v; want one %s", problems, tc.wantProblem)
			case tc.wantProblem != "" && !strings.Contains(problems[0].Err.Error(), tc.errContains):
				t.Errorf("problem %q does not mention %q", problems[0].Err, tc.errContains)
			}
		})
	}
}
