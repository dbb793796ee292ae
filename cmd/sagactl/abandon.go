package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// abandon gives up on a Failed saga: after the person confirms what will be left undone,
// it deletes the saga (if nobody has yet) and sets the abandon annotation, then waits for
// the operator to record the list and release the finalizer. Deletion comes first because
// the operator refuses the annotation on a saga that is not being deleted.
func (a *app) abandon(ctx context.Context, f *flags) error {
	c, obj, err := loadFailedSaga(ctx, f, "abandon only gives up on")
	if err != nil {
		return err
	}
	ns := obj.Namespace
	run := ordersaga.ToRun(&obj.Status)
	undone := saga.LeftUndone(ordersaga.Plan(&obj.Spec), string(obj.UID), &run)
	a.printUndone(ns, f.name, undone)
	if !f.yes && !a.confirm(fmt.Sprintf("Abandon ordersaga %s/%s and leave this undone? [y/N] ", ns, f.name)) {
		return failure("ordersaga %s/%s was not abandoned", ns, f.name)
	}
	if obj.DeletionTimestamp.IsZero() {
		if err := c.Delete(ctx, obj, client.Preconditions{UID: &obj.UID}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete ordersaga %s/%s: %w", ns, f.name, err)
		}
	}
	token := a.now().UTC().Format(time.RFC3339Nano)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"uid": obj.UID, "annotations": map[string]string{v1.AbandonAnnotation: token}}})
	if err != nil {
		return fmt.Errorf("encode the abandon patch: %w", err)
	}
	if err := c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("set %s on ordersaga %s/%s: %w", v1.AbandonAnnotation, ns, f.name, err)
	}
	fmt.Fprintf(a.stdout, "ordersaga %s/%s: deleted, and set %s=%s; waiting up to %s\n", ns, f.name, v1.AbandonAnnotation, token, f.wait)
	return waitUntilGone(ctx, c, client.ObjectKeyFromObject(obj), a.pollEvery(f.wait), a.stdout)
}

func (a *app) printUndone(ns, name string, undone []v1.UndoneStep) {
	if len(undone) == 0 {
		fmt.Fprintf(a.stdout, "ordersaga %s/%s: every compensation succeeded; nothing will be left undone.\n", ns, name)
		return
	}
	fmt.Fprintf(a.stdout, "ordersaga %s/%s will leave undone:\n", ns, name)
	for _, u := range undone {
		fmt.Fprintf(a.stdout, "  %-17s %-12s id %-40s key %s\n", u.Name, u.State, orDash(u.ResourceID), u.IdempotencyKey)
		if u.CompensationError != "" {
			fmt.Fprintf(a.stdout, "  %-17s last undo error: %s\n", "", u.CompensationError)
		}
	}
}

// confirm asks question on stdout and reports whether the answer on stdin is yes. No
// answer (end of input, as from a script without --yes) is no.
func (a *app) confirm(question string) bool {
	fmt.Fprint(a.stdout, question)
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return false
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// waitUntilGone polls until the saga no longer exists, which is how the operator says
// that it recorded what is left undone and released the finalizer.
func waitUntilGone(ctx context.Context, c client.Client, key client.ObjectKey, p poll, out io.Writer) error {
	wait := p.wait
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	for {
		err := c.Get(ctx, key, &v1.OrderSaga{})
		if apierrors.IsNotFound(err) {
			fmt.Fprintf(out, "ordersaga %s abandoned; the list is in its Abandoned Warning Event (kubectl events --for ordersaga/%s)\n", key, key.Name)
			return nil
		} // any other error is transient here: the next poll tries again until the wait runs out
		select {
		case <-ctx.Done():
			return failure("ordersaga %s still exists after %s; is the operator running?", key, wait)
		case <-tick.C:
		}
	}
}
