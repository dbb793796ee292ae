package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// defaultPollInterval is how often retry and abandon read the saga while they wait.
const defaultPollInterval = 250 * time.Millisecond

// retry sets the re-drive annotation on a Failed saga, then waits for the phase the
// re-drive reaches: exit 0 when Compensated, 1 otherwise.
func (a *app) retry(ctx context.Context, f *flags) error {
	c, t, err := loadFailedSaga(ctx, f, "retry only re-drives")
	if err != nil {
		return err
	}
	key := client.ObjectKeyFromObject(t.obj)
	token := a.now().UTC().Format(time.RFC3339Nano)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{v1.RetryAnnotation: token}}})
	if err != nil {
		return fmt.Errorf("encode the retry patch: %w", err)
	}
	if err := c.Patch(ctx, t.obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("set %s on %s %s: %w", v1.RetryAnnotation, t.kind.name, key, err)
	}
	fmt.Fprintf(a.stdout, "%s %s: set %s=%s; waiting up to %s\n", t.kind.name, key, v1.RetryAnnotation, token, f.wait)
	phase, err := waitForRedrive(ctx, c, t.kind, key, saga.RetryToken(token), a.pollEvery(f.wait), a.stdout)
	if err != nil {
		return err
	}
	if phase != v1.PhaseCompensated {
		return &exitError{code: exitFailure}
	}
	return nil
}

// loadFailedSaga connects and reads the saga the command names. It refuses (exit 1) a saga
// that is not Failed, saying what the command does ("retry only re-drives").
func loadFailedSaga(ctx context.Context, f *flags, does string) (client.Client, *target, error) {
	c, ns, err := connect(f)
	if err != nil {
		return nil, nil, err
	}
	t, err := getSaga(ctx, c, f.kind, ns, f.name)
	if err != nil {
		return nil, nil, err
	}
	if t.run.Phase != v1.PhaseFailed {
		return nil, nil, failure("%s %s/%s is %s, not Failed: %s a saga whose compensation gave up",
			t.kind.name, ns, f.name, orDash(string(t.run.Phase)), does)
	}
	return c, t, nil
}

// waitForRedrive polls the saga until the operator has handled token and the saga is
// terminal again, printing each phase it passes through, and returns that phase. When
// wait runs out it says so and returns the phase it saw last.
func waitForRedrive(ctx context.Context, c client.Client, k *sagaKind, key client.ObjectKey, token string, p poll, out io.Writer) (v1.Phase, error) {
	wait := p.wait
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	last, st := "", v1.SagaStatus{Phase: v1.PhaseFailed}
	for {
		switch t, err := k.read(ctx, c, key); {
		case err == nil:
			st = t.run
		case apierrors.IsNotFound(err):
			return "", failure("%s %s was deleted while the re-drive ran", k.name, key)
		} // any other error is transient here: the next poll tries again until the wait runs out
		handled := st.LastHandledRetry == token
		if line := fmt.Sprintf("  %s: %s", orDash(string(st.Phase)), st.Message); handled && line != last {
			fmt.Fprintln(out, line)
			last = line
		}
		if handled && st.Phase.IsTerminal() {
			fmt.Fprintf(out, "%s %s is %s\n", k.name, key, st.Phase)
			return st.Phase, nil
		}
		select {
		case <-ctx.Done():
			if !handled {
				fmt.Fprintf(out, "%s %s: the re-drive was not picked up within %s; is the operator running?\n", k.name, key, wait)
			} else {
				fmt.Fprintf(out, "%s %s is still %s after %s\n", k.name, key, st.Phase, wait)
			}
			return st.Phase, nil
		case <-tick.C:
		}
	}
}
