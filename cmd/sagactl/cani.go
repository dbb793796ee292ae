package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// canI asks the API server, with a SelfSubjectAccessReview, whether the identity sagactl runs
// as may do the verb on the resource in the namespace (all namespaces with -A). It prints yes
// or no, then the review's reason and evaluation error when it gives them, all on one line:
// exit 0 for yes, 1 for no, as `kubectl auth can-i` does. Run in the operator's pod, it tells
// what the operator's ServiceAccount may do.
func (a *app) canI(ctx context.Context, f *flags) error {
	c, ns, err := connect(f)
	if err != nil {
		return err
	}
	if f.allNamespaces {
		ns = ""
	}
	gr := resourceFor(c.RESTMapper(), f.resource, a.stderr)
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: f.verb, Group: gr.Group, Resource: gr.Resource},
	}}
	if err := c.Create(ctx, review); err != nil {
		return fmt.Errorf("create a SelfSubjectAccessReview: %w", err)
	}
	fmt.Fprintln(a.stdout, answer(review.Status))
	if !review.Status.Allowed {
		return &exitError{code: exitFailure}
	}
	return nil
}

// The answers of can-i, first on its line.
const (
	answerYes = "yes"
	answerNo  = "no"
)

// answer is the line can-i prints: yes or no, then the reason and the evaluation error when
// the review gives them, each after " - ".
func answer(st authorizationv1.SubjectAccessReviewStatus) string {
	parts := []string{answerNo}
	if st.Allowed {
		parts[0] = answerYes
	}
	for _, s := range []string{st.Reason, st.EvaluationError} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " - ")
}

// parseResource reads kubectl's RESOURCE[.GROUP]: the group is what follows the first dot.
func parseResource(arg string) schema.GroupResource {
	return schema.ParseGroupResource(strings.ToLower(arg))
}

// resourceFor resolves RESOURCE[.GROUP] with the API server's discovery, as kubectl does, so
// that "ordersagas" or "leases" is asked about in its own API group and not in the core
// group. A resource the server does not know (or discovery that fails) is asked about as
// written, with a warning on w.
func resourceFor(mapper meta.RESTMapper, arg string, w io.Writer) schema.GroupResource {
	gr := parseResource(arg)
	if strings.Contains(gr.Resource, "*") {
		return gr // a wildcard names no resource to resolve
	}
	gvr, err := mapper.ResourceFor(gr.WithVersion(""))
	switch {
	case err == nil:
		return gvr.GroupResource()
	case meta.IsNoMatchError(err) && gr.Group == "":
		fmt.Fprintf(w, "Warning: the server doesn't have a resource type %q\n", gr.Resource)
	case meta.IsNoMatchError(err):
		fmt.Fprintf(w, "Warning: the server doesn't have a resource type %q in group %q\n", gr.Resource, gr.Group)
	default:
		fmt.Fprintf(w, "Warning: resolve the resource type %q: %v\n", arg, err)
	}
	return gr
}
