package localstack

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Expectation is how a sample saga must end.
type Expectation struct {
	Phase  v1.Phase
	Reason string // reason of the Succeeded condition
}

// SampleExpectations are the outcomes of config/samples/: one completes, three roll back
// for a different business reason each.
func SampleExpectations() map[string]Expectation {
	return map[string]Expectation{
		"order-1001": {v1.PhaseCompleted, v1.ReasonCompleted},
		"order-1002": {v1.PhaseCompensated, v1.ReasonOutOfStock},
		"order-1003": {v1.PhaseCompensated, v1.ReasonPaymentDeclined},
		"order-1004": {v1.PhaseCompensated, v1.ReasonUnsupportedDestination},
	}
}

// Demo applies the samples with kubectl, shows progress until they finish, prints the
// table, the timeline of one compensated saga and the consistency check, and returns an
// error unless every sample ended as expected and the check is clean.
func (s *Stack) Demo(ctx context.Context, out io.Writer, wait time.Duration) error {
	fmt.Fprintf(out, "\n$ kubectl apply -f config/samples/\n")
	if err := s.run(ctx, out, s.Kubectl, "apply", "-f", filepath.Join(s.opts.Root, "config", "samples")); err != nil {
		return err
	}
	c, err := s.Client()
	if err != nil {
		return err
	}
	if err := waitForSamples(ctx, c, out, wait); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n$ kubectl get ordersagas -o wide\n")
	if err := s.run(ctx, out, s.Kubectl, "get", "ordersagas", "-o", "wide"); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n$ sagactl describe order-1002\n")
	if err := s.run(ctx, out, s.bin("sagactl"), "describe", "order-1002"); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n$ sagactl check\n")
	if err := s.run(ctx, out, s.bin("sagactl"), "check"); err != nil {
		return fmt.Errorf("sagactl check found critical inconsistencies: %w", err)
	}
	return verifySamples(ctx, c)
}

// Client returns a controller-runtime client for the stack's API server.
func (s *Stack) Client() (client.Client, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("build scheme: %w", err)
	}
	if err := v1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("build scheme: %w", err)
	}
	c, err := client.New(s.Config, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	return c, nil
}

// Env is the environment of commands run against the stack, as .local/env sets it.
func (s *Stack) Env() []string {
	env := append(os.Environ(), "KUBECONFIG="+s.Kubeconfig, "MONGO_URI="+s.MongoURI,
		"GATEWAY_URL="+s.GatewayURL, "SHOP_TOKEN="+s.ShopToken)
	for name, url := range s.URLs {
		env = append(env, strings.ToUpper(name)+"_URL="+url)
	}
	return env
}

func (s *Stack) run(ctx context.Context, out io.Writer, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...) //nolint:gosec // G204: kubectl of the envtest assets or sagactl the stack built
	cmd.Env = s.Env()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", filepath.Base(bin), strings.Join(args, " "), err)
	}
	return nil
}

// waitForSamples prints one progress line per change until every sample is terminal.
func waitForSamples(ctx context.Context, c client.Client, out io.Writer, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	last := ""
	for {
		list := &v1.OrderSagaList{}
		if err := c.List(ctx, list, client.InNamespace("default")); err != nil {
			return fmt.Errorf("list sagas: %w", err)
		}
		line, done := progressLine(list.Items)
		if line != last {
			fmt.Fprintf(out, "  %s\n", line)
			last = line
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the samples did not finish within %s: %s", wait, line)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the samples: %w", ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func progressLine(sagas []v1.OrderSaga) (string, bool) {
	want := SampleExpectations()
	var parts []string
	done := 0
	for _, s := range sagas {
		if _, ok := want[s.Name]; !ok {
			continue
		}
		state := string(s.Status.Phase)
		if state == "" {
			state = "Pending"
		}
		if s.Status.CurrentStep != "" && !s.Status.Phase.IsTerminal() {
			state += "/" + string(s.Status.CurrentStep)
		}
		if s.Status.Phase.IsTerminal() {
			done++
		}
		parts = append(parts, s.Name+" "+state)
	}
	sort.Strings(parts)
	return fmt.Sprintf("[%d/%d finished] %s", done, len(want), strings.Join(parts, ", ")), done == len(want)
}

func verifySamples(ctx context.Context, c client.Client) error {
	var problems []string
	for name, want := range SampleExpectations() {
		got := &v1.OrderSaga{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, got); err != nil {
			return fmt.Errorf("get %s: %w", name, err)
		}
		reason := ""
		if cond := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionSucceeded); cond != nil {
			reason = cond.Reason
		}
		if got.Status.Phase != want.Phase || reason != want.Reason {
			problems = append(problems, fmt.Sprintf("%s ended %s/%s, want %s/%s", name, got.Status.Phase, reason, want.Phase, want.Reason))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("samples ended unexpectedly: %s", strings.Join(problems, "; "))
	}
	return nil
}
