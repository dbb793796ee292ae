package main

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/sagadef"
)

// bucketDefinition is a SagaDefinition outside the order domain: create a bucket, grant a
// team access to it, announce it; a rollback posts a notice.
func bucketDefinition(ns, name string) *v1.SagaDefinition {
	return &v1.SagaDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1.SagaDefinitionSpec{
			Input: v1.DefinitionInput{OpenAPIV3Schema: runtime.RawExtension{Raw: []byte(
				`{"type":"object","required":["team"],"properties":{"team":{"type":"string"}}}`)}},
			FailureReasons: map[string]v1.Reason{"QUOTA_EXCEEDED": "QuotaExceeded"},
			Steps: []v1.DefinitionStep{
				{Name: "CreateBucket", Service: "storage",
					Action:       v1.HTTPCall{Method: "PUT", Path: "'/v1/buckets/bkt-' + saga.uid"},
					Compensation: &v1.CompensationCall{HTTPCall: v1.HTTPCall{Method: "DELETE", Path: "'/v1/buckets/bkt-' + saga.uid"}},
					Outputs:      map[string]v1.Expression{"bucketId": "response.body.id"}},
				{Name: "GrantAccess", Service: "iam",
					Action:       v1.HTTPCall{Method: "PUT", Path: "'/v1/grants/' + saga.uid", Body: "{'bucket': steps.CreateBucket.outputs.bucketId, 'team': input.team}"},
					Compensation: &v1.CompensationCall{HTTPCall: v1.HTTPCall{Method: "DELETE", Path: "'/v1/grants/' + saga.uid"}},
					Outputs:      map[string]v1.Expression{"grantId": "response.body.id", "role": "response.body.role"}},
				{Name: "AnnounceBucket", Service: "notify",
					Action: v1.HTTPCall{Method: "POST", Path: "'/v1/messages'", Body: "{'text': 'bucket ' + steps.CreateBucket.outputs.bucketId}"}},
			},
			OnRollback: &v1.RollbackCall{Service: "notify", Action: v1.HTTPCall{Method: "POST", Path: "'/v1/messages'"}},
		},
	}
}

// createDefinition creates bucketDefinition bucket-v1 in ns and returns it with its plan.
func createDefinition(t *testing.T, ns string) (*v1.SagaDefinition, *saga.Plan) {
	t.Helper()
	def := bucketDefinition(ns, "bucket-v1")
	program, err := sagadef.Compile(context.Background(), &def.Spec)
	if err != nil {
		t.Fatalf("compile the test definition: %v", err)
	}
	if err := kube.Create(t.Context(), def); err != nil {
		t.Fatalf("create SagaDefinition: %v", err)
	}
	return def, program.Plan()
}

// createGenericSaga creates a Saga pinned to def and drives it with the real engine on
// plan, each call answered by script and taking 10ms from start, then writes its status.
func createGenericSaga(t *testing.T, def *v1.SagaDefinition, plan *saga.Plan, name string, start time.Time,
	script func(saga.Call) saga.Outcome, finalizers ...string) *v1.Saga {
	t.Helper()
	obj := &v1.Saga{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: def.Namespace, Finalizers: finalizers},
		Spec: v1.SagaSpec{DefinitionRef: v1.DefinitionReference{Name: def.Name},
			Input: &runtime.RawExtension{Raw: []byte(`{"team": "data"}`)}},
	}
	if err := kube.Create(t.Context(), obj); err != nil {
		t.Fatalf("create saga: %v", err)
	}
	obj.Status.Definition = &v1.PinnedDefinition{Name: def.Name, UID: string(def.UID)}
	driveSaga(obj, plan, start, script)
	if err := kube.Status().Update(t.Context(), obj); err != nil {
		t.Fatalf("write saga status: %v", err)
	}
	return obj
}

// driveSaga runs the engine on a Saga as its controller does.
func driveSaga(obj *v1.Saga, plan *saga.Plan, start time.Time, script func(saga.Call) saga.Outcome) {
	driveRun(func() saga.View { return sagaView(obj, plan) },
		func(d saga.Decision, out saga.Outcome, now time.Time) { saga.Record(plan, &obj.Status, d, out, now) }, start, script)
}

// sagaView is the engine's view of a Saga, as the controller builds it (onRollback.when
// aside: the test definition has none).
func sagaView(obj *v1.Saga, plan *saga.Plan) saga.View {
	return saga.View{UID: string(obj.UID), Plan: plan, Deleting: !obj.DeletionTimestamp.IsZero(),
		RetryRequest: obj.Annotations[v1.RetryAnnotation], AbandonRequest: obj.Annotations[v1.AbandonAnnotation],
		Status: *obj.Status.DeepCopy()}
}

// bucketScript answers each call with ok and the step's outputs, except the calls named in
// failures ("GrantAccess/action"), which fail for business reasons with that code.
func bucketScript(bucket string, failures map[string]string) func(saga.Call) saga.Outcome {
	return func(c saga.Call) saga.Outcome {
		if code, ok := failures[string(c.Step)+"/"+string(c.Direction)]; ok {
			return saga.Outcome{Kind: saga.BusinessFailure, Code: code, Message: strings.ToLower(strings.ReplaceAll(code, "_", " "))}
		}
		out := saga.Outcome{Kind: saga.Succeeded}
		switch {
		case c.Direction != saga.Action:
		case c.Step == "CreateBucket":
			out.Outputs = map[string]string{"bucketId": bucket}
		case c.Step == "GrantAccess":
			out.Outputs = map[string]string{"grantId": "grant-" + bucket, "role": "writer"}
		}
		return out
	}
}

// failedBucketSaga is a Saga whose access grant was refused and whose bucket deletion was
// then refused too: Failed, a person must act.
func failedBucketSaga(t *testing.T, def *v1.SagaDefinition, plan *saga.Plan, name string, finalizers ...string) *v1.Saga {
	t.Helper()
	obj := createGenericSaga(t, def, plan, name, time.Now(), bucketScript("bkt-"+name, map[string]string{
		"GrantAccess/action": "QUOTA_EXCEEDED", "CreateBucket/compensate": "BUCKET_NOT_EMPTY"}), finalizers...)
	if obj.Status.Phase != v1.PhaseFailed {
		t.Fatalf("saga %s is %s (%s), want Failed", name, obj.Status.Phase, obj.Status.Message)
	}
	return obj
}

// createEventAbout records an Event about obj of kind, as the controllers' recorder does.
func createEventAbout(t *testing.T, kind string, obj client.Object, name string, at time.Time, typ, reason, note string) {
	t.Helper()
	e := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: name, Namespace: obj.GetNamespace()},
		EventTime:           metav1.NewMicroTime(at),
		ReportingController: "saga-controller",
		ReportingInstance:   "saga-controller-test",
		Action:              "Reconcile",
		Reason:              reason,
		Note:                note,
		Type:                typ,
		Regarding: corev1.ObjectReference{APIVersion: v1.GroupVersion.String(), Kind: kind,
			Namespace: obj.GetNamespace(), Name: obj.GetName(), UID: obj.GetUID()},
	}
	if err := kube.Create(t.Context(), e); err != nil {
		t.Fatalf("create event: %v", err)
	}
}

// TestDescribeSaga renders the timeline of a Saga that rolled back: its definition and
// input, its steps and compensations, its outputs, the onRollback call, its conditions and
// its own Events, not those of an OrderSaga of the same name.
func TestDescribeSaga(t *testing.T) {
	ns := newNamespace(t)
	def, plan := createDefinition(t, ns)
	obj := createGenericSaga(t, def, plan, "bucket-7", t0, bucketScript("bkt-7", map[string]string{"GrantAccess/action": "QUOTA_EXCEEDED"}))
	namesake := createSaga(t, ns, "bucket-7", t0, script("ord-7", nil))
	createEventAbout(t, "Saga", obj, "bucket-7.2", t0.Add(20*time.Millisecond), corev1.EventTypeWarning, "StepFailed", "GrantAccess failed: QUOTA_EXCEEDED: quota exceeded")
	createEventAbout(t, "Saga", obj, "bucket-7.1", t0.Add(10*time.Millisecond), corev1.EventTypeNormal, "StepSucceeded", "CreateBucket succeeded after 1 attempt(s)")
	createEventAbout(t, "OrderSaga", namesake, "bucket-7.3", t0.Add(15*time.Millisecond), corev1.EventTypeNormal, "StepSucceeded", "about the OrderSaga")

	got := invocation{now: t0.Add(time.Minute)}.run(t, "describe", "saga/bucket-7", "-n", ns, "--kubeconfig", kubeconfig)
	if got.code != 0 {
		t.Fatalf("describe = %d; stderr: %s", got.code, got.stderr)
	}
	want := strings.NewReplacer("NS", ns, "UID", string(def.UID)).Replace(`Name:       bucket-7
Namespace:  NS
Phase:      Compensated
Definition: bucket-v1 (uid UID)
Input:      {"team":"data"}
Started:    2026-11-28T12:00:00.000Z (1m0s ago)
Finished:   2026-11-28T12:00:00.050Z (59.95s ago)
Duration:   50ms
Message:    rolled back: GrantAccess failed: QUOTA_EXCEEDED: quota exceeded
Failure:    GrantAccess QuotaExceeded: GrantAccess failed: QUOTA_EXCEEDED: quota exceeded
Conditions:
  TYPE       STATUS  REASON         SINCE     MESSAGE
  Succeeded  False   QuotaExceeded  1m0s ago  rolled back: GrantAccess failed: QUOTA_EXCEEDED: quota exceeded
  Ready      True    QuotaExceeded  1m0s ago  rolled back: GrantAccess failed: QUOTA_EXCEEDED: quota exceeded

STEP                STATE        ATTEMPTS  DURATION  NEXT ATTEMPT  LAST ERROR
↺ CreateBucket      Compensated  1         0s
  └ ✔ compensation  Succeeded    1         0s
↺ GrantAccess       Compensated  1         0s                      QUOTA_EXCEEDED: quota exceeded
  └ ✔ compensation  Succeeded    1         0s
- AnnounceBucket    Skipped
✔ onRollback        Succeeded    1         0s

Outputs:
  STEP          NAME      VALUE
  CreateBucket  bucketId  bkt-7

Events:
  TIME                                   TYPE     REASON         MESSAGE
  2026-11-28T12:00:00.010Z (59.99s ago)  Normal   StepSucceeded  CreateBucket succeeded after 1 attempt(s)
  2026-11-28T12:00:00.020Z (59.98s ago)  Warning  StepFailed     GrantAccess failed: QUOTA_EXCEEDED: quota exceeded
`)
	if got.stdout != want {
		t.Errorf("describe saga/bucket-7 printed:\n%s\nwant:\n%s", got.stdout, want)
	}

	// The OrderSaga of the same name: by its kind, or by its bare name.
	for _, arg := range []string{"ordersaga/bucket-7", "bucket-7"} {
		got = invocation{now: t0.Add(time.Minute)}.run(t, "describe", arg, "-n", ns, "--kubeconfig", kubeconfig)
		if got.code != 0 || !strings.Contains(got.stdout, "Order:     ord-7\n") || !strings.Contains(got.stdout, " (59.985s ago)  Normal  StepSucceeded  about the OrderSaga\n") {
			t.Errorf("describe %s = %d\nstdout:\n%s\nstderr: %s\nwant the OrderSaga and its Event", arg, got.code, got.stdout, got.stderr)
		}
	}
}

// TestDescribeMissingSaga: a Saga that does not exist is exit 1, named by its kind.
func TestDescribeMissingSaga(t *testing.T) {
	ns := newNamespace(t)
	createSaga(t, ns, "order-1", t0, script("ord-1", nil)) // an OrderSaga is not a Saga
	for _, arg := range []string{"saga/order-1", "sagas/no-such-saga"} {
		name := arg[strings.Index(arg, "/")+1:]
		got := invocation{}.run(t, "describe", arg, "-n", ns, "--kubeconfig", kubeconfig)
		if want := `sagactl: saga "` + name + `" not found in namespace "` + ns + `"` + "\n"; got.code != 1 || got.stderr != want {
			t.Errorf("describe %s = %d, stderr %q; want 1 and %q", arg, got.code, got.stderr, want)
		}
	}
}

// fakeSagaController plays the Saga operator for one saga, as fakeController does for an
// OrderSaga: when the retry annotation is new, it re-drives the saga on plan.
func fakeSagaController(t *testing.T, key client.ObjectKey, plan *saga.Plan, answer func(saga.Call) saga.Outcome) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			obj := &v1.Saga{}
			if err := kube.Get(ctx, key, obj); err == nil && obj.Annotations[v1.RetryAnnotation] != "" &&
				obj.Status.LastHandledRetry != saga.RetryToken(obj.Annotations[v1.RetryAnnotation]) {
				d := saga.Next(sagaView(obj, plan), time.Now())
				saga.Record(plan, &obj.Status, d, saga.Outcome{}, time.Now())
				if kube.Status().Update(ctx, obj) == nil {
					time.Sleep(50 * time.Millisecond)
					driveSaga(obj, plan, time.Now(), answer)
					_ = kube.Status().Update(ctx, obj)
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
}

// TestRetrySaga re-drives a Failed Saga to Compensated, and refuses one that is not Failed.
func TestRetrySaga(t *testing.T) {
	ns := newNamespace(t)
	def, plan := createDefinition(t, ns)
	obj := failedBucketSaga(t, def, plan, "bucket-failed")
	fakeSagaController(t, client.ObjectKeyFromObject(obj), plan, bucketScript("", nil))
	got := invocation{}.run(t, "retry", "saga/bucket-failed", "-n", ns, "--kubeconfig", kubeconfig, "--wait", "20s")
	if got.code != 0 {
		t.Errorf("retry = %d, want 0\nstdout:\n%s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	for _, want := range []string{"saga " + ns + "/bucket-failed: set saga.ordersaga.io/retry=",
		"  Compensating: re-driven by the saga.ordersaga.io/retry annotation\n", "saga " + ns + "/bucket-failed is Compensated\n"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("retry printed:\n%s\nwant %q", got.stdout, want)
		}
	}

	createGenericSaga(t, def, plan, "bucket-ok", time.Now(), bucketScript("bkt-ok", nil))
	got = invocation{}.run(t, "retry", "saga/bucket-ok", "-n", ns, "--kubeconfig", kubeconfig)
	want := "sagactl: saga " + ns + "/bucket-ok is Completed, not Failed: retry only re-drives a saga whose compensation gave up\n"
	if got.code != 1 || got.stderr != want {
		t.Errorf("retry of a Completed saga = %d, stderr %q; want 1, %q", got.code, got.stderr, want)
	}
	fresh := &v1.Saga{}
	if err := kube.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "bucket-ok"}, fresh); err != nil {
		t.Fatalf("get saga: %v", err)
	}
	if v, ok := fresh.Annotations[v1.RetryAnnotation]; ok {
		t.Errorf("a refused retry set the annotation to %q", v)
	}
}
