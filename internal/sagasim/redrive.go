package sagasim

import (
	"context"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// redriveFailed ends every Failed saga as an operator would once the cause is gone: half
// are re-driven with the retry annotation and must end Compensated; the others are
// abandoned (deleted, then the abandon annotation) and must be released, listing what is
// left undone. Failed is only acceptable for a compensation that kept failing
// transiently, a cause the schedule made and then lifted.
func (s *sim) redriveFailed(ctx context.Context) {
	acted := false
	abandoned := map[string]bool{}
	for _, sg := range s.sagas {
		obj, ok := s.api.get(ctx, sg.Name)
		if !ok || obj.Status.Phase != v1.PhaseFailed {
			continue
		}
		if cause := failedCompensation(obj); cause != "" && !transientCode(cause) {
			s.violatef(invFailedCause, "%s: Failed for a permanent cause the schedule did not make: %s", sg.Name, obj.Status.Message)
		}
		acted = true
		if s.rng.IntN(2) == 0 {
			abandoned[sg.Name] = true
			s.abandon(ctx, sg.Name)
			continue
		}
		s.userChange(ctx, sg.Name, "re-drive", func(o client.Object) {
			setAnnotation(o, v1.RetryAnnotation, "redrive-"+s.api.nextToken())
		})
	}
	if !acted || !s.settle(ctx) {
		return
	}
	for _, sg := range s.sagas {
		obj, ok := s.api.get(ctx, sg.Name)
		switch {
		case ok && abandoned[sg.Name]:
			s.violatef(invAbandoned, "%s: abandoned while Failed and deleted, but still there: %s", sg.Name, obj.Status.Message)
		case ok && obj.Status.Phase == v1.PhaseFailed:
			s.violatef(invRedrive, "%s: still Failed after its cause was lifted and it was re-driven: %s", sg.Name, obj.Status.Message)
		}
	}
}

// abandon gives up on a Failed saga as `sagactl abandon` does: delete it, then set the
// abandon annotation.
func (s *sim) abandon(ctx context.Context, name string) {
	s.userDelete(ctx, name, " to abandon it")
	s.userChange(ctx, name, "sets the abandon annotation", func(o client.Object) {
		setAnnotation(o, v1.AbandonAnnotation, "abandon-"+s.api.nextToken())
	})
}

// failedCompensation is the error code of the compensation that gave up.
func failedCompensation(obj *v1.OrderSaga) string {
	for _, st := range obj.Status.Steps {
		if c := st.Compensation; c != nil && c.State == v1.CallFailed {
			code, _, _ := strings.Cut(c.LastError, ":")
			return code
		}
	}
	return ""
}

func transientCode(code string) bool {
	switch code {
	case "TIMEOUT", "CONNECTION", "CANCELED", "UNAVAILABLE", "HTTP_503", "HTTP_429", "HTTP_500", "HTTP_502", "HTTP_504":
		return true
	}
	return false
}
