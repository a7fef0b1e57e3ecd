package bench

import (
	"testing"

	"github.com/kxds/kxds/controlplane/internal/translate"
)

// What a client reads back from the translated resource (generation and
// digest) must be what the model says, or the lost-update check is void.
func TestClientStateMatchesModel(t *testing.T) {
	for _, k := range []int{1, 3, 10, 128} {
		for gen := range 3 * k {
			svc := benchService(300, gen, k)
			if err := svc.Validate(); err != nil {
				t.Fatalf("k=%d gen=%d: %v", k, gen, err)
			}
			got := claState(translate.ClusterLoadAssignment(translate.ClusterName(svc.Key), svc))
			if want := modelState(300, gen, k); got != want {
				t.Fatalf("k=%d gen=%d: client reads %+v, model says %+v", k, gen, got, want)
			}
		}
	}
	if gen := generationOfService(benchService(7, 1234, MaxEndpoints)); gen != 1234 {
		t.Errorf("generationOfService = %d, want 1234", gen)
	}
	if i, ok := serviceIndex(translate.ClusterName(serviceKey(42))); !ok || i != 42 {
		t.Errorf("serviceIndex = %d, %v", i, ok)
	}
}
