package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// TestParseCanI: can-i takes VERB and RESOURCE, with -n or -A, flags anywhere.
func TestParseCanI(t *testing.T) {
	type parsed struct {
		Verb, Resource, Namespace string
		All                       bool
	}
	cases := map[string]struct {
		reason string
		args   []string
		want   parsed
	}{
		"Plain":         {reason: "The namespace is left to connect.", args: []string{"can-i", "get", "secrets"}, want: parsed{Verb: "get", Resource: "secrets"}},
		"Namespace":     {reason: "-n names the namespace.", args: []string{"can-i", "get", "ordersagas", "-n", "shop"}, want: parsed{Verb: "get", Resource: "ordersagas", Namespace: "shop"}},
		"AllNamespaces": {reason: "-A is a flag of can-i too.", args: []string{"can-i", "list", "leases.coordination.k8s.io", "-A"}, want: parsed{Verb: "list", Resource: "leases.coordination.k8s.io", All: true}},
		"FlagsFirst":    {reason: "Flags may come before the command.", args: []string{"--all-namespaces", "can-i", "watch", "ordersagas"}, want: parsed{Verb: "watch", Resource: "ordersagas", All: true}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := parseFlags("sagactl", tc.args)
			if err != nil {
				t.Fatalf("\nReason: %s\nparseFlags(%q): %v", tc.reason, tc.args, err)
			}
			got := parsed{Verb: f.verb, Resource: f.resource, Namespace: f.namespace, All: f.allNamespaces}
			if f.command != cmdCanI || f.name != "" {
				t.Errorf("\nReason: %s\nparseFlags(%q): command %q, name %q; want can-i and no name", tc.reason, tc.args, f.command, f.name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\nparseFlags(%q): -want, +got:\n%s", tc.reason, tc.args, diff)
			}
		})
	}
}

func TestParseResource(t *testing.T) {
	cases := map[string]struct {
		reason string
		arg    string
		want   schema.GroupResource
	}{
		"Core":      {reason: "No dot, no group: discovery finds it.", arg: "secrets", want: schema.GroupResource{Resource: "secrets"}},
		"Group":     {reason: "The group follows the first dot.", arg: "leases.coordination.k8s.io", want: schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}},
		"OurGroup":  {reason: "The sagas' own group.", arg: "ordersagas.saga.ordersaga.io", want: schema.GroupResource{Group: v1.GroupVersion.Group, Resource: "ordersagas"}},
		"LowerCase": {reason: "Resource names are lower case, as kubectl makes them.", arg: "OrderSagas", want: schema.GroupResource{Resource: "ordersagas"}},
		"Wildcard":  {reason: "* is every resource.", arg: "*", want: schema.GroupResource{Resource: "*"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, parseResource(tc.arg)); diff != "" {
				t.Errorf("\nReason: %s\nparseResource(%q): -want, +got:\n%s", tc.reason, tc.arg, diff)
			}
		})
	}
}

func TestAnswer(t *testing.T) {
	cases := map[string]struct {
		reason string
		status authorizationv1.SubjectAccessReviewStatus
		want   string
	}{
		"Yes":             {reason: "Allowed, no reason.", status: authorizationv1.SubjectAccessReviewStatus{Allowed: true}, want: "yes"},
		"No":              {reason: "Denied, no reason.", status: authorizationv1.SubjectAccessReviewStatus{}, want: "no"},
		"YesWithReason":   {reason: "The reason follows the answer.", status: authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "RBAC: allowed"}, want: "yes - RBAC: allowed"},
		"NoWithBoth":      {reason: "Reason, then evaluation error.", status: authorizationv1.SubjectAccessReviewStatus{Reason: "denied", EvaluationError: "webhook down"}, want: "no - denied - webhook down"},
		"EvaluationError": {reason: "An evaluation error alone.", status: authorizationv1.SubjectAccessReviewStatus{EvaluationError: "webhook down"}, want: "no - webhook down"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, answer(tc.status)); diff != "" {
				t.Errorf("\nReason: %s\nanswer(%+v): -want, +got:\n%s", tc.reason, tc.status, diff)
			}
		})
	}
}

// TestCanI asks the API server as a user bound to a Role that allows get on ordersagas and
// leases in one namespace: yes there, no anywhere else and for anything else.
func TestCanI(t *testing.T) {
	ns, other := newNamespace(t), newNamespace(t)
	reader := limitedUser(t, "sagactl-reader", ns, []rbacv1.PolicyRule{
		{APIGroups: []string{v1.GroupVersion.Group}, Resources: []string{"ordersagas"}, Verbs: []string{"get"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get"}},
	})
	allowed := `yes - RBAC: allowed by RoleBinding "sagactl-reader/` + ns + `" of Role "sagactl-reader" to User "sagactl-reader"` + "\n"
	cases := map[string]struct {
		reason     string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		"Allowed":            {reason: "The Role allows it: yes, with RBAC's reason.", args: []string{"get", "ordersagas", "-n", ns}, wantStdout: allowed},
		"GroupGiven":         {reason: "RESOURCE.GROUP names the group.", args: []string{"get", "ordersagas.saga.ordersaga.io", "-n", ns}, wantStdout: allowed},
		"GroupFound":         {reason: "Discovery finds the group of leases.", args: []string{"get", "leases", "-n", ns}, wantStdout: allowed},
		"OtherGroupGiven":    {reason: "leases.coordination.k8s.io as kubectl writes it.", args: []string{"get", "leases.coordination.k8s.io", "-n", ns}, wantStdout: allowed},
		"ContextNamespace":   {reason: "Without -n, the context's namespace.", args: []string{"get", "ordersagas", "--kubeconfig", kubeconfigWithNamespace(t, reader, ns)}, wantStdout: allowed},
		"OtherNamespace":     {reason: "The Role is in one namespace only.", args: []string{"get", "ordersagas", "-n", other}, wantCode: 1, wantStdout: "no\n"},
		"AllNamespaces":      {reason: "-A asks about every namespace at once.", args: []string{"get", "ordersagas", "-A"}, wantCode: 1, wantStdout: "no\n"},
		"OtherVerb":          {reason: "The Role allows get only.", args: []string{"delete", "ordersagas", "-n", ns}, wantCode: 1, wantStdout: "no\n"},
		"Secrets":            {reason: "The Role allows no secrets.", args: []string{"get", "secrets", "-n", ns}, wantCode: 1, wantStdout: "no\n"},
		"UnknownResource":    {reason: "A resource the server lacks is asked about as written, with a warning.", args: []string{"get", "frobs", "-n", ns}, wantCode: 1, wantStdout: "no\n", wantStderr: `Warning: the server doesn't have a resource type "frobs"` + "\n"},
		"AdminAllNamespaces": {reason: "system:masters may do anything anywhere.", args: []string{"delete", "secrets", "-A", "--kubeconfig", kubeconfig}, wantStdout: "yes"},
		"NoKubeconfig":       {reason: "No cluster to ask: exit 2.", args: []string{"get", "secrets", "--kubeconfig", filepath.Join(t.TempDir(), "missing")}, wantCode: 2, wantStderr: "load kubeconfig"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"can-i"}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "--kubeconfig") {
				args = append(args, "--kubeconfig", reader)
			}
			got := invocation{}.run(t, args...)
			if got.code != tc.wantCode || !strings.HasPrefix(got.stdout, tc.wantStdout) || !strings.Contains(got.stderr, tc.wantStderr) ||
				(tc.wantStderr == "" && got.stderr != "") {
				t.Errorf("\nReason: %s\nsagactl %v = %d\nstdout: %q\nstderr: %q\nwant %d, stdout starting %q, stderr with %q",
					tc.reason, args, got.code, got.stdout, got.stderr, tc.wantCode, tc.wantStdout, tc.wantStderr)
			}
		})
	}
}

// limitedUser adds an envtest user bound to a Role with rules in ns, waits until the API
// server's RBAC authorizer applies it, and returns the path of the user's kubeconfig.
func limitedUser(t *testing.T, name, ns string, rules []rbacv1.PolicyRule) string {
	t.Helper()
	user, err := testEnv.AddUser(envtest.User{Name: name}, nil)
	if err != nil {
		t.Fatalf("add envtest user: %v", err)
	}
	b, err := user.KubeConfig()
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatalf("write kubeconfig: %v", err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Rules: rules}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: name}}}
	if err := kube.Create(t.Context(), role); err != nil {
		t.Fatalf("create role: %v", err)
	}
	if err := kube.Create(t.Context(), binding); err != nil {
		t.Fatalf("create role binding: %v", err)
	}
	waitForRBAC(t, name, ns, rules[0])
	return path
}

// waitForRBAC waits until the API server's RBAC authorizer, which reads Roles from a cache,
// lets user do the rule's first verb on its first resource in ns.
func waitForRBAC(t *testing.T, user, ns string, rule rbacv1.PolicyRule) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: rule.Verbs[0], Group: rule.APIGroups[0], Resource: rule.Resources[0]}}}
		if err := kube.Create(t.Context(), sar); err != nil {
			t.Fatalf("create SubjectAccessReview: %v", err)
		}
		if sar.Status.Allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Role of %s in %s was not applied within 30s", user, ns)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
