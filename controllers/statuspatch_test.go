package controllers

import (
	"encoding/json"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// TestStatusPatchTurnsTheStatusReadIntoTheStatusWritten applies each patch, as the API
// server does, to the whole object as the reconcile read it, and checks that the result
// has the status written and everything else as read: fields set, changed and removed
// (a removed key must become null, or the API server would keep it).
func TestStatusPatchTurnsTheStatusReadIntoTheStatusWritten(t *testing.T) {
	started := metav1.NewMicroTime(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	running := func(s *v1.OrderSagaStatus) {
		s.Phase, s.CurrentStep, s.OrderID, s.StartedAt = v1.PhaseRunning, "ReserveInventory", "ord-1", &started
		s.Steps = []v1.StepStatus{{Name: "CreateOrder", State: v1.StepSucceeded}, {Name: "ReserveInventory", State: v1.StepRunning}}
		s.Failure = &v1.FailureStatus{Step: "ReserveInventory", Reason: "Timeout", Message: "no answer"}
		s.Message = "retrying"
	}
	for _, tc := range []struct {
		name          string
		before, after func(*v1.OrderSagaStatus)
	}{
		{name: "first write of a new saga", before: func(*v1.OrderSagaStatus) {}, after: running},
		{name: "fields change and go", before: running, after: func(s *v1.OrderSagaStatus) {
			running(s)
			s.Phase, s.CurrentStep, s.Failure, s.Message = v1.PhaseCompleted, "", nil, ""
			s.Steps[1].State = v1.StepSucceeded
			s.Steps = append(s.Steps, v1.StepStatus{Name: "AuthorizePayment", State: v1.StepSucceeded})
		}},
		{name: "a list shrinks", before: running, after: func(s *v1.OrderSagaStatus) {
			running(s)
			s.Steps = s.Steps[:1]
		}},
		{name: "nothing changed", before: running, after: running},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := testgen.OrderSaga("s-1")
			before.ResourceVersion, before.UID = "42", types.UID("u-1")
			tc.before(&before.Status)
			after := before.DeepCopy()
			after.Status = v1.OrderSagaStatus{}
			tc.after(&after.Status)

			got, metadata := applyStatusPatch(t, before, after)
			if diff := cmp.Diff(after, got); diff != "" {
				t.Errorf("the patch makes (-want +got):\n%s", diff)
			}
			if want := map[string]any{"resourceVersion": "42"}; !cmp.Equal(metadata, want) {
				t.Errorf("patch metadata %v, want %v: the write must be refused if the saga changed since the read", metadata, want)
			}
		})
	}
}

// applyStatusPatch makes the status patch of a write from before to after and applies it to
// before's JSON as the API server would; it returns the object that makes and the patch's
// metadata.
func applyStatusPatch(t *testing.T, before, after *v1.OrderSaga) (*v1.OrderSaga, map[string]any) {
	t.Helper()
	patch, err := statusPatchFrom(before)
	if err != nil {
		t.Fatal(err)
	}
	if patch.Type() != types.MergePatchType {
		t.Fatalf("patch type %s, want %s", patch.Type(), types.MergePatchType)
	}
	data, err := patch.Data(after)
	if err != nil {
		t.Fatal(err)
	}
	read, err := json.Marshal(before)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := jsonpatch.MergePatch(read, data)
	if err != nil {
		t.Fatalf("apply %s: %v", data, err)
	}
	var got v1.OrderSaga
	if err := json.Unmarshal(patched, &got); err != nil {
		t.Fatal(err)
	}
	var sent struct {
		Metadata map[string]any `json:"metadata"`
	}
	if err := json.Unmarshal(data, &sent); err != nil {
		t.Fatal(err)
	}
	return &got, sent.Metadata
}

func TestStatusPatchRefusesAKindWithoutAKnownStatus(t *testing.T) {
	var obj client.Object = &metav1.PartialObjectMetadata{}
	if _, err := statusPatchFrom(obj); err == nil {
		t.Fatal("statusPatchFrom accepted an object whose status it cannot find")
	}
}
