package kubesource

import (
	"strings"
	"testing"

	"github.com/kxds/kxds/controlplane/internal/model"
)

func TestOptionsValidate(t *testing.T) {
	key := model.ServiceKey{Namespace: "ns", Name: "svc"}
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no client", Options{}, "Client is required"},
		{"outside namespace", Options{Client: fakeClient(), Namespace: "other",
			Services: []WantedService{{Key: key}}}, `outside the watched namespace "other"`},
		{"duplicate", Options{Client: fakeClient(), Services: []WantedService{{Key: key}, {Key: key}}}, "listed twice"},
		{"bad port name", Options{Client: fakeClient(), Services: []WantedService{{Key: key, PortName: "GRPC"}}}, "not a valid port name"},
		{"bad name", Options{Client: fakeClient(), Services: []WantedService{{Key: model.ServiceKey{Namespace: "ns", Name: "A"}}}}, "DNS-1123"},
	} {
		if _, err := New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New error = %v; want it to contain %q", tc.name, err, tc.want)
		}
	}
}
