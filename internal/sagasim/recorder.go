package sagasim

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
)

// recorder writes the controller's Events to the trace. Events of a crashed manager are
// lost, as they would be.
type recorder struct{ sim *sim }

var _ events.EventRecorder = recorder{}

// Eventf implements events.EventRecorder.
func (r recorder) Eventf(regarding, _ runtime.Object, eventtype, reason, action, note string, args ...any) {
	if r.sim.proc.dead {
		return
	}
	name := "?"
	if m, err := meta.Accessor(regarding); err == nil {
		name = m.GetName()
	}
	r.sim.trace.addf("%s: Event %s %s/%s: %s", name, eventtype, reason, action, fmt.Sprintf(note, args...))
}
