package xdscache

import (
	"log/slog"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// gRPC clients wait out their 15 s resource timer for a listener that a
// response merely leaves out ("not yet"), but fail at once when a listener they
// had disappears ("does not exist"). So, per stream, a name nobody serves gets a
// valid placeholder listener first and is withdrawn after the client has taken
// it. The stream's returned-resource versions (kept by the ADS server) remember
// which step each name is at, so no extra per-stream state is needed here.
const (
	placeholderVersion = "placeholder"
	absentVersion      = "absent"
)

type placeholders struct {
	build func(name string) proto.Message
}

// next returns what to send for a name nobody serves, given the version the
// stream has for it ("" if none): the placeholder (any != nil), a withdrawal
// (send without any), or nothing. version is what the stream has afterwards.
func (p *placeholders) next(name, have string) (any *anypb.Any, version string, send bool) {
	switch have {
	case "":
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(p.build(name))
		if err != nil {
			// Cannot happen for a well-formed builder; fall back to the timer.
			slog.Error("cannot marshal placeholder listener", "name", name, "err", err)
			return nil, absentVersion, false
		}
		return &anypb.Any{TypeUrl: resource.ListenerType, Value: b}, placeholderVersion, true
	case absentVersion:
		return nil, absentVersion, false
	default:
		// The placeholder, or a real listener that was deleted: leave it out.
		return nil, absentVersion, true
	}
}
