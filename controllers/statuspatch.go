package controllers

import (
	"encoding/json"
	"fmt"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// statusPatch is the merge patch of a status write: the difference of the status stanza
// alone, and the resource version the write started from (optimistic lock).
//
// client.MergeFrom would marshal and diff the whole object, twice its size, for a write to
// the status subresource, where the API server ignores everything else anyway; on the
// hot path of every saga that diff was the controller's largest cost after decoding.
type statusPatch struct {
	before          []byte // the status stanza as the reconcile read it, as JSON
	resourceVersion string
}

// statusPatchFrom is the status patch of a write that started from before.
func statusPatchFrom(before client.Object) (statusPatch, error) {
	st, err := statusOf(before)
	if err != nil {
		return statusPatch{}, err
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return statusPatch{}, fmt.Errorf("marshal the status read: %w", err)
	}
	return statusPatch{before: raw, resourceVersion: before.GetResourceVersion()}, nil
}

// Type is a JSON merge patch.
func (statusPatch) Type() types.PatchType { return types.MergePatchType }

// Data is {"metadata":{"resourceVersion":…},"status":<merge patch from before to obj's>}.
func (p statusPatch) Data(obj client.Object) ([]byte, error) {
	st, err := statusOf(obj)
	if err != nil {
		return nil, err
	}
	after, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("marshal the status to write: %w", err)
	}
	diff, err := jsonpatch.CreateMergePatch(p.before, after)
	if err != nil {
		return nil, fmt.Errorf("diff the status: %w", err)
	}
	type meta struct {
		ResourceVersion string `json:"resourceVersion"`
	}
	data, err := json.Marshal(struct {
		Metadata meta            `json:"metadata"`
		Status   json.RawMessage `json:"status"`
	}{meta{p.resourceVersion}, diff})
	if err != nil {
		return nil, fmt.Errorf("marshal the status patch: %w", err)
	}
	return data, nil
}

// statusOf is the status stanza of a kind this package writes the status of.
func statusOf(obj client.Object) (any, error) {
	switch o := obj.(type) {
	case *v1.OrderSaga:
		return &o.Status, nil
	case *v1.Saga:
		return &o.Status, nil
	case *v1.SagaDefinition:
		return &o.Status, nil
	default:
		return nil, fmt.Errorf("no status stanza known for %T", obj)
	}
}
